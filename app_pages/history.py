"""History: the experiments kept in the results store (:mod:`sim.store`); a comparison reopens in Compare.

Experiments land there from ``python -m sim compare/sweep --store`` and from
the Compare page when "keep the runs" is ticked. The store is the file in
``$REPAYLAB_STORE`` or ``runs.duckdb`` in the working directory; this page
opens it read-only, except for the one short transaction of a rename or a
delete (:mod:`app_support.history_panel`). "Open in Compare" rebuilds the comparison's
request from the stored scenarios and seed, so Compare reads every run back
from the store instead of simulating it again.
"""

import pandas as pd
import streamlit as st

from app_support.history import (
    STRATEGY_COLUMNS,
    compare_request,
    experiment_rows,
    kpi_rows,
    partial_note,
    provenance,
    replication_table,
    significant_rows,
    strategy_table,
)
from app_support.history_panel import manage_panel, reset_label, show_done
from app_support.kpis import PINNED_KPI
from app_support.runs import report
from app_support.state import remember, show_settings
from app_support.text import error_text, plain
from sim.errors import ScenarioError
from sim.store import ResultStore, resolve_store_path

st.title("History")
path = resolve_store_path()
st.caption(f"Results store: {plain(path.resolve())} (set REPAYLAB_STORE to use another file)")

store = ResultStore(path, lock_timeout=5.0)
try:
    experiments = store.experiments()
except ScenarioError as err:
    st.error(error_text(err))
    st.stop()
if not experiments:
    st.info("No stored experiments yet. Tick \"Keep the runs in the results store\" on the Compare page, or run "
            "python -m sim compare … --store.")
    st.stop()

show_done()
st.dataframe(pd.DataFrame(experiment_rows(experiments)), hide_index=True, key="history_table")


def _choice(experiment_id: str) -> str:
    entry = next(e for e in experiments if e["id"] == experiment_id)
    return f"{experiment_id} · " + (entry["label"] or ", ".join(entry["scenarios"]))


chosen = st.selectbox("Experiment", [e["id"] for e in experiments], key="history_pick", format_func=_choice,
                      on_change=reset_label, args=(experiments,))
experiment = next(e for e in experiments if e["id"] == chosen)
manage_panel(store, experiment)
try:
    summary = store.experiment_summary(chosen)
    details = store.experiment_details(chosen)
    per_run = store.experiment_kpis(chosen)
    by_strategy = store.experiment_strategy_kpis(chosen)
except ScenarioError as err:
    st.error(error_text(err))
    st.stop()
line, currency = provenance(experiment, details)
show_settings(line)
if (note := partial_note(experiment)) is not None:
    st.warning(plain(note))

if summary is None:
    st.warning("This experiment did not finish; its stored runs are below.")
elif "scenarios" in summary:
    st.markdown(f"**KPIs** — {summary['reps']:d} replications, {summary['confidence']:.0%} intervals")
    st.dataframe(pd.DataFrame(kpi_rows(summary, currency)), hide_index=True, key="history_kpis",
                 column_config=PINNED_KPI)
    significant = significant_rows(summary, currency)
    if significant:
        st.markdown("**Significant differences against the champion** (rates in percentage points, pp)")
        st.dataframe(pd.DataFrame(significant), hide_index=True, key="history_differences")
else:  # a single run stores its KPIs only
    label = experiment["scenarios"][0] if experiment["scenarios"] else "run"
    st.markdown("**KPIs** — a single run (python -m sim run), no intervals")
    st.dataframe(pd.DataFrame(kpi_rows({"scenarios": [{"name": label, "kpis": summary.get("kpis", {})}]},
                                       currency, single=True)), hide_index=True, key="history_kpis",
                 column_config=PINNED_KPI)
if not by_strategy.empty:
    st.markdown(f"**KPIs by strategy** — champion/challenger in one book: means over {experiment['reps']:d} "
                "replications with 95 % intervals")
    st.dataframe(strategy_table(by_strategy, currency), hide_index=True, key="history_strategies",
                 column_config=STRATEGY_COLUMNS)
st.markdown("**Every replication**")
st.dataframe(replication_table(per_run, currency), hide_index=True, key="history_runs")

try:
    request, widgets = compare_request(experiment, details, str(path))
except ScenarioError as err:
    st.caption(f"Cannot reopen in Compare: {plain(str(err))}")
else:
    if st.button("Open in Compare", key="history_open",
                 help="Compare shows this experiment with its charts; every run is read back from the store."):
        remember("compare", request, widgets, restore=True)
        st.switch_page("app_pages/compare.py")

try:
    page = report(str(path), chosen, experiment["updated_at"])
except ScenarioError as err:
    st.caption(f"No report: {plain(str(err))}")
else:
    st.download_button("Download report (HTML)", page, file_name=f"report-{chosen}.html", mime="text/html",
                       on_click="ignore", key="history_report",
                       help="One self-contained HTML file for management: headline, KPIs with intervals, "
                            "charts and assumptions; it prints well.")
