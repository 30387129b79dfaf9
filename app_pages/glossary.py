"""Glossary (everyone): the words of collections, capacity planning and the lab's statistics, in plain terms.

The text is :data:`app_support.glossary.GLOSSARY`, the same that the other
pages show as help on their figures.
"""

import streamlit as st

from app_support.glossary import GLOSSARY
from app_support.text import plain

st.title("Glossary")
st.caption("The words the pages use, and where you meet them.")

for term, (where, meaning) in GLOSSARY.items():
    # Our own words, but shown as typed all the same (a "*" or "|" in them is not Markdown).
    st.markdown(f"**{plain(term[:1].upper() + term[1:])}** · *{plain(where)}*")
    st.markdown(plain(meaning))
