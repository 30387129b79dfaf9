"""The Lab's scenario-library panel: save the variant under a name, rename or delete saved ones.

The files and their rules are :mod:`app_support.library`'s; this is only the
widgets, with every refusal shown as its one-line error.
"""

from __future__ import annotations

import re

import streamlit as st

from sim.errors import ScenarioError
from sim.scenario import Scenario

from .library import NAME_RULE, PREFIX, delete, library_dir, rename, save, saved_scenarios
from .text import error_text, plain


def _suggested(scenario: Scenario) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", scenario.display_name).strip("-_")[:60] or "variant"


def library_panel(scenario: Scenario) -> None:
    st.caption(f"Saved scenarios are listed as \"{plain(PREFIX)}name\" in Start from, Compare and Capacity. "
               f"Folder: {plain(library_dir())}")
    c1, c2, c3 = st.columns([3, 1, 1])
    name = c1.text_input(f"Name ({NAME_RULE})", _suggested(scenario), key="lab_library_name")
    replace = c2.checkbox("replace", key="lab_library_replace", help="Overwrite a saved scenario of that name.")
    if c3.button("Save to the library", key="lab_library_save"):
        try:
            save(name.strip(), scenario, replace=replace)
        except ScenarioError as err:
            st.error(error_text(err))
        else:
            st.success(f"Saved as {plain(PREFIX + name.strip())}")
    saved = list(saved_scenarios())
    if not saved:
        return
    d1, d2, d3, d4 = st.columns([2, 2, 1, 1])
    picked = d1.selectbox("Saved scenario", saved, key="lab_library_pick")
    new_name = d2.text_input("New name", key="lab_library_new")
    try:
        if d3.button("Rename", key="lab_library_rename", disabled=not new_name.strip()):
            rename(picked, new_name.strip())
            st.rerun()
        if d4.button("Delete", key="lab_library_delete"):
            delete(picked)
            st.rerun()
    except ScenarioError as err:
        st.error(error_text(err))
