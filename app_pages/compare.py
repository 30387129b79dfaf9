"""Compare strategies (collections managers): which recovers more, at what cost, with how many complaints.

Shipped or uploaded scenarios run over paired replications (common random
numbers) with :func:`sim.experiment.run_experiment`; the page shows the means
with confidence intervals, the differences against the champion that are
significant, and the charts of :mod:`sim.plots`.
"""

import streamlit as st

from app_support.champion import champion_challenger, size_calculator
from app_support.common import (
    DEFAULT_ACCOUNTS,
    DEFAULT_DAYS,
    DEFAULT_REPS,
    UPLOAD_LIMIT_MB,
    shipped_scenario_text,
    shipped_scenarios,
    uploaded_scenario,
)
from app_support.kpis import comparison_table, fmt, styled, too_wide_warning
from app_support.runs import compare, report
from app_support.text import error_text, plain
from sim import plots
from sim.errors import ScenarioError
from sim.export_safety import csv_text
from sim.store import ResultStore, resolve_store_path

st.title("Compare strategies")
st.caption("Each replication runs every strategy on the same accounts with the same random streams, "
           "so the differences are paired and the shared noise cancels. Intervals are 95 % Student-t.")

with st.expander("How many accounts does a test need?"):
    size_calculator()

BOOKS = "Whole books, one strategy each"
ONE_BOOK = "One book, champion/challenger"
if st.radio("Mode", [BOOKS, ONE_BOOK], horizontal=True, key="compare_mode") == ONE_BOOK:
    st.caption("One live book, its accounts assigned at random to the strategies of a [[strategies]] scenario, "
               "run once and read out by strategy, as a bank runs a test.")
    champion_challenger()
    st.stop()

shipped = shipped_scenarios()
default = [s for s in ("baseline", "sms_gentle") if s in shipped]
left, right = st.columns([3, 2])
chosen = left.multiselect("Shipped strategies", list(shipped), default=default, key="compare_scenarios")
uploads = right.file_uploader("Or upload scenarios (TOML)", type=["toml"], accept_multiple_files=True,
                              max_upload_size=UPLOAD_LIMIT_MB, key="compare_upload")

c1, c2, c3, c4, c5 = st.columns(5)
accounts = c1.number_input("Accounts", 100, 200_000, DEFAULT_ACCOUNTS, step=500, key="compare_accounts")
days = c2.number_input("Days", 7, 730, DEFAULT_DAYS, step=30, key="compare_days")
reps = c3.number_input("Replications", 1, 50, DEFAULT_REPS, key="compare_reps")
seed = c4.number_input("Seed", 0, 2**31 - 1, 42, key="compare_seed")
workers = c5.number_input("Worker processes", 1, 8, 1, key="compare_workers",
                          help="1 runs in the app's own process; more start a local process pool.")
keep = st.checkbox(f"Keep the runs in the results store ({plain(resolve_store_path())})", key="compare_store",
                   help="Stored runs are reused by later experiments and listed on the History page.")

sizes = {"simulation.accounts": int(accounts), "simulation.days": int(days)}
candidates: list[tuple[str, str]] = []  # (source, toml text), in the order shown
problems = []
for stem in chosen:
    try:
        candidates.append((f"{stem}.toml", shipped_scenario_text(stem, sizes)))
    except ScenarioError as err:
        problems.append(str(err))
for upload in uploads or []:
    try:
        scenario, _ = uploaded_scenario(upload.name, upload.getvalue())
        candidates.append((upload.name, scenario.with_overrides(sizes).to_toml()))
    except ScenarioError as err:
        problems.append(str(err))
for problem in problems:
    st.error(plain(problem))

sources = [source for source, _ in candidates]
champion = st.selectbox("Champion (the others are compared with it)", sources, key="compare_champion",
                        disabled=not sources)
if champion is not None:
    candidates.sort(key=lambda item: item[0] != champion)  # stable: the champion first

if st.button("Run comparison", type="primary", key="compare_run", disabled=bool(problems) or not candidates):
    st.session_state["compare_request"] = {
        "scenarios": tuple(candidates), "reps": int(reps), "seed": int(seed), "workers": int(workers),
        "store": str(resolve_store_path()) if keep else None,
    }

request = st.session_state.get("compare_request")
if request is None:
    st.info("Choose strategies and sizes, then run the comparison.")
    st.stop()

with st.status(f"Running {len(request['scenarios'])} strategies × {request['reps']} replications…",
               expanded=False) as status:
    try:
        comparison = compare(request["scenarios"], request["reps"], request["seed"], request["workers"],
                             request["store"])
    except ScenarioError as err:
        status.update(label="Failed", state="error")
        st.error(error_text(err))
        st.stop()
    status.update(label=f"Done: {comparison.computed} runs simulated, {comparison.reused} reused from the store "
                        f"(experiment {comparison.experiment_id})", state="complete")

champion_label = comparison.champion
if (warning := too_wide_warning(comparison)) is not None:
    st.warning(plain(warning))
st.subheader("Net recovery")
columns = st.columns(len(comparison.scenarios))
for column, summary in zip(columns, comparison.scenarios, strict=True):
    delta = None
    if summary.label != champion_label:
        d = comparison.difference(summary.label, "net_recovery")
        delta = f"{fmt('net_recovery', d.estimate.mean, signed=True)} vs {plain(champion_label)}"
        if d.significant:
            delta += " (significant)"
    column.metric(f"net recovery · {plain(summary.label)}", fmt("net_recovery", summary.kpis["net_recovery"].mean),
                  delta=delta)

st.subheader("KPIs")
table, verdicts = comparison_table(comparison)
st.dataframe(styled(table, verdicts), hide_index=True, key="compare_kpis")
st.caption(f"Mean (95 % interval) over {comparison.reps:d} replications; columns \"A − {plain(champion_label)}\" are "
           "paired differences. Green: significantly better than the champion; red: significantly worse; "
           "yellow: significantly different where neither direction is better.")

tabs = st.tabs(["Recovery curves", "Cost against collections", "Complaints", "Agent utilisation",
                "Roll rates", "KPI bars"])
with tabs[0]:
    st.pyplot(plots.recovery_curves(comparison))
with tabs[1]:
    st.pyplot(plots.cost_vs_recovery(comparison))
with tabs[2]:
    st.pyplot(plots.kpi_bars(comparison, ("complaints_per_1000", "compliance_refusals")))
with tabs[3]:
    st.pyplot(plots.kpi_bars(comparison, ("agent_utilization", "right_party_contact_rate",
                                          "inbound_service_level")))
with tabs[4]:
    label = st.selectbox("Strategy", comparison.labels, key="compare_roll_scenario")
    summary = comparison.summary(label)
    st.pyplot(plots.roll_rate_heatmap(summary.roll_rates, title=f"Monthly roll rates, {label}"))
with tabs[5]:
    st.pyplot(plots.kpi_bars(comparison))

st.subheader("Downloads")
rows = comparison.to_rows()
results_csv = csv_text(rows, list(rows[0]))  # labels are the user's text: spreadsheet-safe
d1, *rest = st.columns(1 + len(request["scenarios"]))
d1.download_button("Results (CSV)", results_csv, file_name=f"comparison-{comparison.experiment_id}.csv",
                   mime="text/csv", on_click="ignore", key="compare_csv")
for i, (column, (source, text)) in enumerate(zip(rest, request["scenarios"], strict=True)):
    name = source if source.endswith(".toml") else f"{source}.toml"
    column.download_button(plain(name), text, file_name=name, mime="application/toml", on_click="ignore",
                           key=f"compare_toml_{i}")

if request["store"]:
    try:
        stored = ResultStore(request["store"], lock_timeout=5.0).find_experiment(comparison.experiment_id)
        page = report(request["store"], comparison.experiment_id, stored["updated_at"])
    except ScenarioError as err:
        st.error(error_text(err))
    else:
        st.download_button("Download report (HTML)", page, file_name=f"report-{comparison.experiment_id}.html",
                           mime="text/html", on_click="ignore", key="compare_report",
                           help="One self-contained HTML file for management: headline, KPIs with intervals, "
                                "charts and assumptions; it prints well.")
else:
    st.caption("Tick \"Keep the runs in the results store\" and run again to download a report for management.")
