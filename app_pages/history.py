"""History: the experiments kept in the results store (:mod:`sim.store`), read-only.

Experiments land there from ``python -m sim compare/sweep --store`` and from
the Compare page when "keep the runs" is ticked. The store is the file in
``$REPAYLAB_STORE`` or ``runs.duckdb`` in the working directory; this page
only ever opens it read-only.
"""

import pandas as pd
import streamlit as st

from app_support.kpis import HEADLINE, fmt
from app_support.runs import report
from app_support.text import error_text, plain
from sim.errors import ScenarioError
from sim.plots import KPI_TITLES
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

st.dataframe(pd.DataFrame([{
    "experiment": e["id"], "kind": e["kind"], "status": e["status"], "scenarios": ", ".join(e["scenarios"]),
    "replications": e["reps"], "runs": f"{e['runs']} of {e['runs_expected']}", "updated": e["updated_at"],
    "code version": e["code_version"],
} for e in experiments]), hide_index=True, key="history_table")

chosen = st.selectbox("Experiment", [e["id"] for e in experiments], key="history_pick",
                      format_func=lambda i: f"{i} · " + ", ".join(next(e for e in experiments
                                                                         if e["id"] == i)["scenarios"]))
experiment = next(e for e in experiments if e["id"] == chosen)
try:
    summary = store.experiment_summary(chosen)
    per_run = store.experiment_kpis(chosen)
except ScenarioError as err:
    st.error(error_text(err))
    st.stop()


def interval_text(kpi: str, estimate: dict) -> str:
    """``mean (low … high)`` from a stored estimate; ``–`` where there is none."""
    mean, low, high = (estimate.get(k) for k in ("mean", "ci_low", "ci_high"))
    text = fmt(kpi, mean) if mean is not None else "–"
    if low is not None and high is not None:
        text += f" ({fmt(kpi, low)} … {fmt(kpi, high)})"
    return text


def show_comparison(summary: dict) -> None:
    """A compare, sweep or sensitivity: each scenario's KPIs with intervals, the significant differences."""
    rows = []
    for kpi in HEADLINE:
        row = {"KPI": KPI_TITLES.get(kpi, kpi)}
        for scenario in summary["scenarios"]:
            row[scenario["name"]] = interval_text(kpi, scenario["kpis"].get(kpi, {}))
        rows.append(row)
    st.markdown(f"**KPIs** — {summary['reps']:d} replications, {summary['confidence']:.0%} intervals")
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="history_kpis")
    significant = [d for d in summary["differences"] if d["significant"]]
    if significant:
        st.markdown("**Significant differences against the champion**")
        st.dataframe(pd.DataFrame([{
            "challenger": d["challenger"], "champion": d["champion"], "KPI": KPI_TITLES.get(d["kpi"], d["kpi"]),
            "difference": fmt(d["kpi"], d["mean"]),
            "interval": f"{fmt(d['kpi'], d['ci_low'])} … {fmt(d['kpi'], d['ci_high'])}",
        } for d in significant]), hide_index=True, key="history_differences")


def show_run(summary: dict, label: str) -> None:
    """A single ``python -m sim run``: its KPIs (one replication, so no intervals)."""
    kpis = summary.get("kpis", {})
    rows = [{"KPI": KPI_TITLES.get(kpi, kpi), label: fmt(kpi, kpis.get(kpi))} for kpi in HEADLINE]
    st.markdown("**KPIs** — a single run (python -m sim run), no intervals")
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="history_kpis")


if summary is None:
    st.warning("This experiment did not finish; its stored runs are below.")
elif "scenarios" in summary:
    show_comparison(summary)
else:  # a single run stores its KPIs only
    show_run(summary, experiment["scenarios"][0] if experiment["scenarios"] else "run")
st.markdown("**Every replication**")
st.dataframe(per_run, hide_index=True, key="history_runs")

try:
    page = report(str(path), chosen, experiment["updated_at"])
except ScenarioError as err:
    st.caption(f"No report: {plain(str(err))}")
else:
    st.download_button("Download report (HTML)", page, file_name=f"report-{chosen}.html", mime="text/html",
                       on_click="ignore", key="history_report",
                       help="One self-contained HTML file for management: headline, KPIs with intervals, "
                            "charts and assumptions; it prints well.")
