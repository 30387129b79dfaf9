"""Helpers shared by the pages of the Streamlit app (``app.py``); no simulation logic lives here."""
