"""Scenario lab (analysts): edit a scenario, see at once whether it is valid, run it, sweep it, save it.

Edits build plain scenario data which :meth:`sim.Scenario.from_dict` validates
as it validates a file, so a mistake shows the command line's one-line error.
Runs use :func:`sim.simulate`; sweeps and the sensitivity tornado use
:mod:`sim.sweep`.
"""

import numpy as np
import pandas as pd
import streamlit as st

from app_support.charts import readable
from app_support.common import (
    DEFAULT_ACCOUNTS,
    DEFAULT_DAYS,
    DEFAULT_REPS,
    SCENARIO_DIR,
    UPLOAD_LIMIT_MB,
    scenario_from_text,
    uploaded_scenario,
)
from app_support.glossary import GLOSSARY_HELP
from app_support.kpis import (
    HEADLINE,
    PINNED_KPI,
    fmt,
    fmt_estimate,
    title,
    too_wide_warning,
    unit,
    verdict,
)
from app_support.lab import (
    STEP_COLUMNS,
    TEAM_COLUMNS,
    apply_tables,
    cost_label,
    field_words,
    kind_columns_shown,
    numeric_paths,
    sensitivity_params,
    step_rows,
    suggested_steps,
    team_rows,
    value_at,
)
from app_support.library import choices, chosen_scenario
from app_support.library_panel import library_panel
from app_support.offers import NOTE as OFFERS_NOTE
from app_support.offers import offers_table
from app_support.real_data import portfolio_file
from app_support.runs import cache_key, chart_png, fidelity, sensitivity, single_run, sweep
from app_support.state import (
    forget,
    keep_options,
    recall,
    remember,
    settings_line,
    show_settings,
    stale_banner,
)
from app_support.text import error_text, plain
from sim import plots
from sim.domain import LADDER_CHANNELS as CHANNELS
from sim.errors import ScenarioError
from sim.fidelity import table_rows
from sim.scenario import PRESETS, Scenario
from sim.sweep import parse_set

TABS = ("lab_run", "lab_sweep", "lab_sens", "lab_fidelity")
# KPIs whose meaning the glossary explains, shown as help on their metric.
GLOSSARY_TERM = {"net_recovery": "net recovery", "cure_rate": "cure rate",
                 "right_party_contact_rate": "right-party contact"}


# The lab's simple inputs a reload puts back (buttons, uploads and the tables cannot be put back).
RESTORED = ("lab_base", "lab_loaded", "lab_accounts", "lab_days", "lab_seed", "lab_priority", "lab_preset",
            "lab_no_contact", "lab_sweep_path", "lab_sweep_values", "lab_sweep_reps", "lab_sens_kpi", "lab_sens_reps",
            "lab_fidelity_reps")


def widgets_now() -> dict:
    """The lab's simple inputs as they are: what a reload puts back."""
    return {k: v for k, v in st.session_state.items() if k in RESTORED or str(k).startswith("lab_cost_")}


st.title("Scenario lab")
st.caption("Change the ladder, the teams, the rules and the costs; the scenario is checked as you type. "
           "Run it once, sweep one field, see which assumptions matter, and save the variant as TOML.")

# Before the widgets: a reload finds each tab's last request in the address and puts its inputs back
# (the ladder and team tables cannot be put back; results of an edited table then show as stale).
requests = {tab: recall(tab) for tab in TABS}
options = choices()
keep_options("lab_base", options)
left, right = st.columns([2, 3])
stem = left.selectbox("Start from", options, key="lab_base", help="A shipped scenario, or one saved in the library.",
                      index=options.index("baseline") if "baseline" in options else 0)
upload = right.file_uploader("Or upload a scenario (TOML)", type=["toml"], max_upload_size=UPLOAD_LIMIT_MB,
                             key="lab_upload")

source, base = chosen_scenario(stem)
if upload is not None:
    try:
        base, _ = uploaded_scenario(upload.name, upload.getvalue())
        source = upload.name
    except ScenarioError as err:
        st.error(error_text(err))
        st.caption(f"Editing {plain(source)} until the upload is fixed.")

# A new starting point resets the editors to its values.
if st.session_state.get("lab_loaded") != source:
    for key in [k for k in st.session_state if str(k).startswith("lab_")
                and k not in ("lab_base", "lab_upload", "lab_portfolio")
                and not str(k).endswith("_request")]:
        del st.session_state[key]
    st.session_state["lab_loaded"] = source

content = base.content()

st.subheader("Size")
accounts_csv = st.file_uploader("The lender's own accounts (portfolio CSV, optional)", type=["csv"],
                                max_upload_size=UPLOAD_LIMIT_MB, key="lab_portfolio",
                                help="Columns account_id, balance, days_past_due and optionally segment, past_due, "
                                     "phone_known, email_known, entered_on. The scenario then works these accounts.")
portfolio_path = None
if accounts_csv is not None:
    try:
        portfolio_path = portfolio_file(accounts_csv.name, accounts_csv.getvalue(), [base])
    except ScenarioError as err:
        st.error(error_text(err))
c1, c2, c3 = st.columns(3)
accounts = c1.number_input("Accounts", 100, 200_000, min(DEFAULT_ACCOUNTS, base.simulation.accounts), step=500,
                           key="lab_accounts", disabled=portfolio_path is not None,
                           help="With a portfolio CSV, the CSV's accounts.")
days = c2.number_input("Days", 7, 730, min(DEFAULT_DAYS, base.simulation.days), step=30, key="lab_days")
seed = c3.number_input("Seed", 0, 2**31 - 1, int(base.simulation.seed), key="lab_seed")

st.subheader("Escalation ladder")
strategy = content.get("strategy", {})
priorities = ["balance", "days_past_due", "expected_value", "account_id"]
priority = st.selectbox("Call list priority", priorities, index=priorities.index(strategy.get("priority", "balance")),
                        key="lab_priority")
team_names = list(content.get("teams", {}))
steps = st.data_editor(
    pd.DataFrame(step_rows(content), columns=list(STEP_COLUMNS)), num_rows="dynamic", hide_index=True,
    key="lab_steps",
    column_config={
        "channel": st.column_config.SelectboxColumn("channel", options=list(CHANNELS), required=True),
        "from_dpd": st.column_config.NumberColumn("from dpd", step=1),
        "to_dpd": st.column_config.NumberColumn("to dpd", step=1),
        "every_days": st.column_config.NumberColumn("every days", step=1),
        "attempts_per_day": st.column_config.NumberColumn("attempts/day", step=1),
        "min_balance": st.column_config.NumberColumn("min balance"),
        "max_balance": st.column_config.NumberColumn("max balance"),
        "after_failed": st.column_config.NumberColumn("after failed", step=1),
        "segments": st.column_config.TextColumn("segments (a, b)"),
        "team": st.column_config.TextColumn("team"),
        "send_time": st.column_config.TextColumn("send time"),
    },
)

st.subheader("Teams and shifts")
teams = st.data_editor(
    pd.DataFrame(team_rows(content), columns=list(TEAM_COLUMNS)), num_rows="dynamic", hide_index=True,
    key="lab_teams",
    column_config={
        "kind": st.column_config.SelectboxColumn("kind", options=["call", "field", "legal"], required=True),
        "agents": st.column_config.NumberColumn("agents", step=1),
        "shifts": st.column_config.TextColumn("shifts (09:00-13:00, 14:00-18:00)"),
        "work_days": st.column_config.TextColumn("work days (mon, tue, …)"),
        # A column no team of the scenario uses is hidden; a cell that does not apply to its team is blank.
        **{column: None if label is None else st.column_config.NumberColumn(label, step=1)
           for column, label in kind_columns_shown(content).items()},
    },
)

st.subheader("Compliance and costs")
compliance = content.get("compliance", {})
c1, c2 = st.columns(2)
preset = c1.selectbox("Contact rules preset", list(PRESETS), index=list(PRESETS).index(compliance.get("preset", "us_reg_f")),
                      key="lab_preset")
no_contact = c2.multiselect("No contact on", ["weekend", "holiday"], default=compliance.get("no_contact_on", []),
                            key="lab_no_contact")
costs = dict(content.get("costs", {}))
cost_columns = st.columns(len(costs))
for column, (name, value) in zip(cost_columns, costs.items(), strict=True):
    if name == "agency_commission":  # a share, typed in % (rounded back so an untouched value stays exact)
        share = column.number_input(cost_label(name, base.currency), 0.0, 100.0, round(100 * float(value), 6),
                                    step=1.0, format="%.1f", key=f"lab_cost_{name}")
        costs[name] = round(share / 100, 10)
        continue
    step = 0.01 if value < 1 else 1.0
    costs[name] = column.number_input(cost_label(name, base.currency), min_value=0.0, value=float(value),
                                      step=step, format="%.3f" if step < 1 else "%.2f", key=f"lab_cost_{name}")

data = apply_tables(content, steps.to_dict("records"), teams.to_dict("records"))
data["strategy"]["priority"] = priority
data["compliance"] = {**compliance, "preset": preset, "no_contact_on": no_contact}
data["costs"] = costs
data["simulation"] = {**content.get("simulation", {}), "accounts": int(accounts), "days": int(days),
                      "seed": int(seed)}
if portfolio_path is not None:
    data["portfolio"] = {**data.get("portfolio", {}), "csv": str(portfolio_path)}
try:
    scenario = Scenario.from_dict(data, source=source, base_dir=str(SCENARIO_DIR))
except ScenarioError as err:
    scenario = None
    st.error(error_text(err))
else:
    st.success(f"Valid scenario {plain(scenario.display_name)} (content hash {plain(scenario.content_hash)}, "
               f"amounts in {plain(scenario.currency)})")

if scenario is None:
    st.stop()
text = scenario.to_toml()
currency = scenario.currency
name = f"{scenario.display_name}-variant.toml"
st.download_button("Save the variant (TOML)", text, file_name=name, mime="application/toml", on_click="ignore",
                   key="lab_download")

with st.expander("Scenario library: save this variant for Compare and Capacity"):
    library_panel(scenario)

run_tab, sweep_tab, tornado_tab = st.tabs(["Run once", "Sweep one field", "Sensitivity (tornado)"])

with run_tab:
    if st.button("Run the scenario", type="primary", key="lab_run"):
        remember("lab_run", (text, source, int(seed)), widgets_now())
    request = st.session_state.get("lab_run_request")
    if request is not None:
        with st.spinner("Simulating…"):
            result = single_run(*request)
        stale_banner(request[0], text, "Run the scenario")
        show_settings(settings_line([scenario_from_text(request[0], request[1])], seed=request[2]))
        kpis = result.scalar_kpis()
        shown = ("net_recovery", "collected", "recovery_rate", "cost", "complaints_per_1000", "cure_rate",
                 "agent_utilization", "right_party_contact_rate")
        for row in (shown[:4], shown[4:]):
            for column, kpi in zip(st.columns(4), row, strict=True):
                column.metric(plain(plots.KPI_TITLES[kpi]), fmt(kpi, kpis[kpi], currency=currency),
                              help=GLOSSARY_HELP.get(GLOSSARY_TERM.get(kpi, ""), None))
        curve = pd.DataFrame({"collected, % of initial balance": 100 * result.recovery_curve()},
                             index=pd.RangeIndex(1, result.days + 1, name="day"))
        st.line_chart(curve, x_label="day", y_label="% collected")
        st.bar_chart(pd.Series(result.kpis["contacts"], name="contacts"), x_label="channel", y_label="contacts")
        if "offers" in result.kpis:  # only a ladder with a settlement or hardship step makes offers
            st.markdown("**Settlement and hardship offers**")
            st.dataframe(offers_table(result.kpis["offers"], result.kpis["cost_by_item"], currency),
                         hide_index=True, key="lab_offers", column_config=PINNED_KPI)
            st.caption(plain(OFFERS_NOTE))

paths = numeric_paths(scenario.content())

with sweep_tab:
    c1, c2, c3 = st.columns([3, 2, 1])
    default_path = next((p for p in paths if p.endswith(".every_days")), paths[0])
    path = c1.selectbox("Field", paths, index=paths.index(default_path), key="lab_sweep_path")
    current = value_at(scenario.content(), path)
    values = c2.text_input(f"Values (now {plain(current)})", key="lab_sweep_values",
                           value=",".join(str(v) for v in ([1, 3, 7] if path.endswith("every_days") else
                                                           [current])))
    reps = c3.number_input("Replications", 1, 20, DEFAULT_REPS, key="lab_sweep_reps")
    if st.button("Run the sweep", key="lab_sweep_run"):
        try:
            parsed = parse_set(f"{path}={values}")
            remember("lab_sweep", (text, source, parsed[0], tuple(parsed[1]), int(reps), int(seed)), widgets_now())
        except ScenarioError as err:
            st.error(error_text(err))
    request = st.session_state.get("lab_sweep_request")
    if request is not None:
        try:
            result = sweep(*request)
        except ScenarioError as err:
            st.error(error_text(err))
        else:
            comparison = result.comparison
            stale_banner(request[0], text, "Run the sweep")
            show_settings(settings_line([scenario_from_text(request[0], request[1])], reps=request[4],
                                        seed=request[5], extra=f"{request[2]} = {', '.join(map(str, request[3]))}"))
            rows = []
            for summary in comparison.scenarios:
                row = {"Variant": summary.label}
                for kpi in HEADLINE[:6]:
                    row[f"{title(kpi)} ({unit(kpi, currency)})"] = fmt_estimate(kpi, summary.kpis[kpi])
                if summary.label != comparison.champion:
                    d = comparison.difference(summary.label, "net_recovery").estimate
                    row[f"Net recovery vs base ({currency})"] = fmt_estimate("net_recovery", d, signed=True)
                    row["Significant"] = verdict("net_recovery", d) or "no"
                else:
                    row[f"Net recovery vs base ({currency})"] = "base"
                    row["Significant"] = "–"
                rows.append(row)
            if (warning := too_wide_warning(comparison)) is not None:
                st.warning(plain(warning))
            st.dataframe(pd.DataFrame(rows), hide_index=True, key="lab_sweep_table",
                         column_config={"Variant": st.column_config.TextColumn("Variant", pinned=True)})
            st.caption(plain(f"Significant: whether the variant's net recovery differs from the base's beyond "
                             f"the noise. {GLOSSARY_HELP['not significant']}"))
            st.image(chart_png(cache_key("sweep", request, currency),
                               lambda: readable(plots.sweep_tradeoff(result), currency)))

with tornado_tab:
    content_now = scenario.content()
    suggested = [p for p in ("behavior.promise_keep_rate",) if p in paths]
    # A team given per 1,000 accounts is written as its ratio: vary that.
    call_team = next((f"teams.{n}.{'agents_per_1000' if 'agents_per_1000' in t else 'agents'}"
                      for n, t in content_now.get("teams", {}).items() if t.get("kind") == "call"), None)
    call_step = next((f"strategy.steps.{i}.every_days" for i, s in enumerate(content_now["strategy"]["steps"])
                      if s["channel"] == "call"), None)
    suggested = [p for p in (call_team, call_step, *suggested) if p]
    suggested = suggested_steps(scenario, suggested)
    params = st.data_editor(
        pd.DataFrame({"field": [p for p, _ in suggested], "step": [step for _, step in suggested]}),
        num_rows="dynamic", hide_index=True, key="lab_sens_params",
        column_config={"field": st.column_config.SelectboxColumn("field", options=paths, required=True),
                       "step": st.column_config.NumberColumn("± step", required=True)},
    )
    c1, c2 = st.columns(2)
    kpi = c1.selectbox("KPI", HEADLINE, key="lab_sens_kpi", format_func=lambda k: plots.KPI_TITLES[k])
    reps = c2.number_input("Replications", 1, 20, DEFAULT_REPS, key="lab_sens_reps")
    if st.button("Run the sensitivity", key="lab_sens_run"):
        forget("lab_sens")  # a refused table shows no earlier result
        try:
            chosen = sensitivity_params(scenario, params.to_dict("records"))
            remember("lab_sens", (text, source, chosen, kpi, int(reps), int(seed)), widgets_now())
        except ScenarioError as err:
            st.error(error_text(err))
    request = st.session_state.get("lab_sens_request")
    if request is not None:
        try:
            result = sensitivity(*request)
        except ScenarioError as err:
            st.error(error_text(err))
        else:
            stale_banner(request[0], text, "Run the sensitivity")
            computed = scenario_from_text(request[0], request[1])
            show_settings(settings_line([computed], reps=request[4], seed=request[5]))
            if (warning := too_wide_warning(result.comparison)) is not None:
                st.warning(plain(warning))
            fields = computed.content()

            def field_tick(tick: str) -> str:
                """"strategy.steps.2.every_days = 3" as the lab names the field, then its base value."""
                path, _, base_value = tick.partition(" = ")
                return f"{field_words(fields, path)} = {base_value}" if base_value else field_words(fields, path)

            st.image(chart_png(cache_key("tornado", request, currency),
                               lambda: readable(plots.tornado(result), currency, words=field_tick)))
            shift = unit(result.kpi, currency, difference=True)
            st.dataframe(pd.DataFrame([{
                "Field": field_words(fields, s.path), "Base": s.base_value, "Low": s.low_value,
                "High": s.high_value,
                f"Δ at low ({shift})": fmt_estimate(result.kpi, s.low, signed=True),
                f"Δ at high ({shift})": fmt_estimate(result.kpi, s.high, signed=True),
                f"Swing ({shift})": fmt(result.kpi, float(np.abs(s.high.mean - s.low.mean))),
            } for s in result.swings]), hide_index=True, key="lab_sens_table")

with st.expander("Fidelity: against a real credit-card book"):
    st.caption("The flow-rate waterfall, cure from 91+, the ladder against a no-contact holdout, the payment mix, "
               "right-party contacts and complaints, each next to the range a real card book falls in and its "
               "source (python -m sim fidelity). A measure the model cannot produce shows n/a and counts as out "
               "of range; today most checks are out of range, until issue 15's card model.")
    reps = st.number_input("Replications", 1, 10, DEFAULT_REPS, key="lab_fidelity_reps")
    if st.button("Measure fidelity", key="lab_fidelity_run"):
        remember("lab_fidelity", (text, source, int(reps), int(seed)), widgets_now())
    request = st.session_state.get("lab_fidelity_request")
    if request is not None:
        with st.spinner("Simulating the scenario and its holdout…"):
            report = fidelity(*request)
        stale_banner(request[0], text, "Measure fidelity")
        rows = zip(table_rows(report), report.checks, strict=True)
        st.dataframe(pd.DataFrame([{"Check": name, "Value": value, "Range": rng, "In range": mark,
                                    "Source": c.source, "Note": c.note or ""}
                                   for (name, value, rng, mark), c in rows]),
                     hide_index=True, key="lab_fidelity_table")
        inside = sum(c.in_range for c in report.checks)
        st.caption(f"{inside:d} of {len(report.checks):d} checks in range.")
        show_settings(settings_line([scenario_from_text(request[0], request[1])], reps=request[2], seed=request[3]))
