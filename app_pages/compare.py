"""Compare strategies (collections managers): which recovers more, at what cost, with how many complaints.

Shipped or uploaded scenarios run over paired replications (common random
numbers) with :func:`sim.experiment.run_experiment`; the page shows the means
with confidence intervals, the differences against the champion that are
significant, and the charts of :mod:`sim.plots`.
"""

import streamlit as st

from app_support.champion import champion_challenger, one_book_mode, size_calculator
from app_support.charts import readable
from app_support.common import (
    DEFAULT_ACCOUNTS,
    DEFAULT_DAYS,
    DEFAULT_REPS,
    UPLOAD_LIMIT_MB,
    scenario_from_text,
    shipped_scenarios,
)
from app_support.glossary import GLOSSARY_HELP
from app_support.kpis import (
    PINNED_KPI,
    comparison_table,
    differences_table,
    fmt,
    styled,
    too_wide_warning,
)
from app_support.library import saved_scenarios
from app_support.real_data import gather_candidates
from app_support.runs import cache_key, chart_png, compare, report
from app_support.state import (
    keep_options,
    recall,
    remember,
    settings_line,
    show_settings,
    stale_banner,
)
from app_support.text import error_text, plain
from sim import plots
from sim.errors import ScenarioError
from sim.export_safety import csv_text
from sim.store import ResultStore, resolve_store_path

# The widgets whose values a reload puts back (uploads cannot be put back: their results show as stale).
REMEMBERED = ("compare_scenarios", "compare_accounts", "compare_days", "compare_reps", "compare_seed",
              "compare_workers", "compare_store", "compare_champion", "compare_saved")

st.title("Compare strategies")
st.caption("Each replication runs every strategy on the same accounts with the same random streams, "
           "so the differences are paired and the shared noise cancels. Intervals are 95 % Student-t.")

with st.expander("How many accounts does a test need?"):
    size_calculator()

if one_book_mode():
    st.caption("One live book, its accounts assigned at random to the strategies of a [[strategies]] scenario, "
               "run once and read out by strategy, as a bank runs a test.")
    champion_challenger()
    st.stop()

request = recall("compare")  # before the widgets: a reload puts the request's inputs back
shipped = shipped_scenarios()
default = [s for s in ("baseline", "sms_gentle") if s in shipped]
left, right = st.columns([3, 2])
library = list(saved_scenarios())
keep_options("compare_scenarios", list(shipped))
keep_options("compare_saved", library)
chosen = left.multiselect("Shipped strategies", list(shipped), default=default, key="compare_scenarios")
saved = left.multiselect("Saved in the library (Scenario lab)", library, key="compare_saved") if library else []
uploads = right.file_uploader("Or upload scenarios (TOML)", type=["toml"], accept_multiple_files=True,
                              max_upload_size=UPLOAD_LIMIT_MB, key="compare_upload",
                              help='A file may start with extends = "baseline.toml" (a shipped scenario or '
                                   "another file uploaded with it) and change only what differs.")
accounts_csv = st.file_uploader("Your own accounts (portfolio CSV, optional)", type=["csv"],
                                max_upload_size=UPLOAD_LIMIT_MB, key="compare_portfolio",
                                help="Columns account_id, balance, days_past_due and optionally segment, past_due, "
                                     "phone_known, email_known, entered_on (as python -m sim run reads them). "
                                     "Every strategy then works this book instead of a generated one.")

c1, c2, c3, c4, c5 = st.columns(5)
accounts = c1.number_input("Accounts", 100, 200_000, DEFAULT_ACCOUNTS, step=500, key="compare_accounts",
                           disabled=accounts_csv is not None, help="With a portfolio CSV, the CSV's accounts.")
days = c2.number_input("Days", 7, 730, DEFAULT_DAYS, step=30, key="compare_days")
reps = c3.number_input("Replications", 1, 50, DEFAULT_REPS, key="compare_reps")
seed = c4.number_input("Seed", 0, 2**31 - 1, 42, key="compare_seed")
workers = c5.number_input("Worker processes", 1, 8, 1, key="compare_workers",
                          help="1 runs in the app's own process; more start a local process pool.")
keep = st.checkbox(f"Keep the runs in the results store ({plain(resolve_store_path())})", key="compare_store",
                   help="Stored runs are reused by later experiments and listed on the History page.")

candidates, problems = gather_candidates(chosen, uploads or [], accounts_csv, int(accounts), int(days), saved)
for problem in problems:
    st.error(plain(problem))

sources = [source for source, _ in candidates]
champion = st.selectbox("Champion (the others are compared with it)", sources, key="compare_champion",
                        disabled=not sources)
if champion is not None:
    candidates.sort(key=lambda item: item[0] != champion)  # stable: the champion first

inputs_now = {"scenarios": tuple(candidates), "reps": int(reps), "seed": int(seed)}
if st.button("Run comparison", type="primary", key="compare_run", disabled=bool(problems) or not candidates):
    request = {**inputs_now, "workers": int(workers), "store": str(resolve_store_path()) if keep else None}
    remember("compare", request, {key: st.session_state[key] for key in REMEMBERED if key in st.session_state})

if request is None:
    st.info("Choose strategies and sizes, then run the comparison.")
    st.stop()

try:
    comparison = compare(request["scenarios"], request["reps"], request["seed"], request["workers"],
                         request["store"])
except ScenarioError as err:
    st.error(error_text(err))
    st.stop()

stale_banner({k: request[k] for k in inputs_now}, inputs_now, "Run comparison")
built = [scenario_from_text(text, source) for source, text in request["scenarios"]]
currency = built[0].currency
show_settings(settings_line(built, reps=request["reps"], seed=request["seed"],
                            extra=f"{comparison.computed} runs simulated, {comparison.reused} reused from the "
                                  f"store (experiment {comparison.experiment_id})"))
if len({s.currency for s in built}) > 1:
    st.warning("The scenarios are in different currencies; their amounts cannot be compared.")

champion_label = comparison.champion
if (warning := too_wide_warning(comparison)) is not None:
    st.warning(plain(warning))
st.subheader("Net recovery", help=GLOSSARY_HELP["net recovery"])
columns = st.columns(len(comparison.scenarios))
for column, summary in zip(columns, comparison.scenarios, strict=True):
    delta = None
    if summary.label != champion_label:
        d = comparison.difference(summary.label, "net_recovery")
        delta = f"{fmt('net_recovery', d.estimate.mean, signed=True, currency=currency)} vs {plain(champion_label)}"
        delta += " (significant)" if d.significant else " (not significant)"
    column.metric(f"net recovery · {plain(summary.label)}",
                  fmt("net_recovery", summary.kpis["net_recovery"].mean, currency=currency), delta=delta)

st.subheader("KPIs", help="Each strategy's mean over the replications with its 95 % interval. "
             + GLOSSARY_HELP["right-party contact"] + " " + GLOSSARY_HELP["cure rate"])
st.dataframe(comparison_table(comparison, currency), hide_index=True, key="compare_kpis",
             column_config=PINNED_KPI)
st.caption(f"Mean (95 % interval) over {comparison.reps:d} replications.")
if len(comparison.scenarios) > 1:
    st.subheader("Differences against the champion", help=GLOSSARY_HELP["not significant"])
    table, verdicts = differences_table(comparison, currency)
    st.dataframe(styled(table, verdicts), hide_index=True, key="compare_differences", column_config=PINNED_KPI)
    st.caption(f"Each column is a challenger minus {plain(champion_label)}, paired replication by replication "
               "(95 % interval); rates differ in percentage points (pp). Green: significantly better than the "
               "champion; red: significantly worse; yellow: significantly different where neither direction is "
               "better; no colour: not significant, the interval holds 0.")

# The pictures are cached with the results (same request, same pictures): a reload shows them at once.
drawn = cache_key(request["scenarios"], request["reps"], request["seed"], currency)
tabs = st.tabs(["Recovery curves", "Cost against collections", "Complaints", "Agent utilisation",
                "Roll rates", "KPI bars"])
with tabs[0]:
    st.image(chart_png(drawn + "curves", lambda: readable(plots.recovery_curves(comparison), currency)))
with tabs[1]:
    st.image(chart_png(drawn + "cost", lambda: readable(plots.cost_vs_recovery(comparison), currency)))
with tabs[2]:
    st.image(chart_png(drawn + "complaints", lambda: readable(
        plots.kpi_bars(comparison, ("complaints_per_1000", "compliance_refusals")), currency)))
with tabs[3]:
    st.image(chart_png(drawn + "agents", lambda: readable(
        plots.kpi_bars(comparison, ("agent_utilization", "right_party_contact_rate", "inbound_service_level")),
        currency)))
with tabs[4]:
    st.caption(plain(GLOSSARY_HELP["roll rate"]))
    label = st.selectbox("Strategy", comparison.labels, key="compare_roll_scenario")
    st.image(chart_png(drawn + "roll" + cache_key(label), lambda: plots.roll_rate_heatmap(
        comparison.summary(label).roll_rates, title=f"Monthly roll rates, {label}")))
with tabs[5]:
    st.image(chart_png(drawn + "bars", lambda: readable(plots.kpi_bars(comparison), currency)))

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
