"""repaylab's front end: a frame around one page per user (``streamlit run app.py``).

Managers compare strategies, analysts edit and sweep a scenario, planners
allocate capacity and staff the inbound line, advisors plan a borrower's
payoff, and anyone can look back at stored experiments. Every number comes
from :mod:`sim` and :mod:`optimizer`; the pages only gather inputs and show
results.
"""

import streamlit as st

st.set_page_config(page_title="repaylab", page_icon=":material/savings:", layout="wide")

PAGES = [
    st.Page("app_pages/compare.py", title="Compare strategies", icon=":material/compare_arrows:", default=True),
    st.Page("app_pages/lab.py", title="Scenario lab", icon=":material/science:"),
    st.Page("app_pages/capacity.py", title="Capacity", icon=":material/groups:"),
    st.Page("app_pages/payoff.py", title="Debt payoff", icon=":material/account_balance_wallet:"),
    st.Page("app_pages/history.py", title="History", icon=":material/history:"),
    st.Page("app_pages/calibrate.py", title="Calibrate", icon=":material/tune:"),
    st.Page("app_pages/glossary.py", title="Glossary", icon=":material/menu_book:"),
]

st.navigation(PAGES).run()
