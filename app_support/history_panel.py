"""History's rename and delete controls for the chosen experiment, with a confirmation before deleting.

The rules (what a label may be, which runs go with an experiment) are
:class:`sim.store.ResultStore`'s; this is only the widgets. Each change opens
the store for writing for one short transaction, so the page stays a reader
the rest of the time. A refusal is shown as its one-line error; what was done
is said once, after the page has been redrawn without (or with the new name
of) the experiment.
"""

from __future__ import annotations

import streamlit as st

from sim.errors import ScenarioError
from sim.store import ResultStore

from .text import error_text, plain

DONE = "history_done"  # what the last change did, said once on the next run of the page
CONFIRM = "history_confirm_delete"  # the id a first press of Delete asked about


def show_done() -> None:
    """Say what the last rename or delete did (once)."""
    if (done := st.session_state.pop(DONE, None)) is not None:
        st.success(plain(done))


def reset_label(experiments: list[dict]) -> None:
    """When another experiment is picked, the label box shows that one's label (the on_change of the pick)."""
    chosen = st.session_state.get("history_pick")
    label = next((e["label"] for e in experiments if e["id"] == chosen), None)
    st.session_state["history_label"] = label or ""
    st.session_state.pop(CONFIRM, None)


def _rename(store: ResultStore, experiment: dict, label: str) -> None:
    try:
        stored = store.rename_experiment(experiment["id"], label)
    except ScenarioError as err:
        st.error(error_text(err))
        return
    st.session_state[DONE] = (f"Experiment {experiment['id']} is now named {stored!r}." if stored
                              else f"Experiment {experiment['id']} has no name now.")
    st.rerun()


def _delete(store: ResultStore, experiment: dict) -> None:
    try:
        gone = store.delete_experiment(experiment["id"])
    except ScenarioError as err:
        st.error(error_text(err))
        return
    for key in (CONFIRM, "history_pick", "history_label"):
        st.session_state.pop(key, None)
    st.session_state[DONE] = (f"Deleted experiment {experiment['id']} and the {gone['runs']} runs no other "
                              "experiment used.")
    st.rerun()


def manage_panel(store: ResultStore, experiment: dict) -> None:
    """Rename the chosen experiment, or delete it after a second, explicit confirmation."""
    if "history_label" not in st.session_state:
        st.session_state["history_label"] = experiment["label"] or ""
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    label = c1.text_input("Name", key="history_label", max_chars=120,
                          help="A name for this experiment, shown in the list above and by python -m sim history; "
                               "empty takes the name away.")
    if c2.button("Rename", key="history_rename"):
        _rename(store, experiment, label)
    if c3.button("Delete…", key="history_delete"):
        st.session_state[CONFIRM] = experiment["id"]
    if st.session_state.get(CONFIRM) != experiment["id"]:
        return
    st.warning(f"Delete experiment {plain(experiment['id'])} for good? Its runs go too, except those another "
               "experiment still uses. This cannot be undone.")
    y, n, _ = st.columns([1, 1, 3])
    if y.button("Yes, delete it", key="history_delete_yes", type="primary"):
        _delete(store, experiment)
    if n.button("Cancel", key="history_delete_no"):
        st.session_state.pop(CONFIRM, None)
        st.rerun()
