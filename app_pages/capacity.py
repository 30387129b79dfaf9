"""Capacity (planners): which segments get which treatment within the agents' hours, and the inbound line's staff.

The allocation is :func:`optimizer.allocation.allocate` (an LP over segments ×
treatments with team capacity per week); "verify by simulation" runs the
plan's ladder against the scenario's own with :func:`optimizer.allocation.verify`.
The inbound line is staffed with :mod:`optimizer.staffing.requirements` (Erlang C/A per
hour, then the shifts with the fewest paid hours that cover every hour); it has
inputs of its own, in the command line's units (minutes and %).
"""

import pandas as pd
import streamlit as st

from app_support import capacity as tables
from app_support.charts import capacity_use, objective_by_agents, staffing_cover
from app_support.common import (
    DEFAULT_ACCOUNTS,
    DEFAULT_DAYS,
    DEFAULT_REPS,
    number,
    scenario_from_text,
)
from app_support.glossary import GLOSSARY_HELP
from app_support.library import choices, chosen_scenario
from app_support.runs import allocation, cache_key, chart_png, staffing, verify_plan
from app_support.state import (
    keep_options,
    recall,
    remember,
    settings_line,
    show_settings,
    stale_banner,
)
from app_support.text import error_text, plain
from sim.errors import ScenarioError

PLAN_WIDGETS = ("cap_scenario", "cap_accounts", "cap_days", "cap_budget", "cap_min_service")
STAFF_WIDGETS = ("staff_handle", "staff_level", "staff_within", "staff_shrinkage", "staff_model", "staff_patience",
                 "staff_patterns")
PINNED = {"Segment": st.column_config.TextColumn("Segment", pinned=True),
          "Unit": st.column_config.TextColumn("Unit", pinned=True)}

st.title("Capacity")
st.caption("The allocation maximises net collections within the horizon (collections − variable spend, complaints "
           "included) plus the value of the book left at it (scenario section [objective]), "
           "within each team's minutes per week and the budget. One more agent is the objective re-solved with "
           "one more agent's paid minutes in every week; a weekly shadow price is what one more agent hour "
           "(one more filing for legal) in that one week would add.")

solved = recall("cap")  # before the widgets: a reload puts the request's inputs back
staff = recall("staff")
tab_plan, tab_staff = st.tabs(["Allocation", "Inbound staffing"])


def gather_plan_inputs() -> tuple | None:
    """The allocation's request from its inputs (scenario text, source, budget, minimum service), or None."""
    options = choices()
    keep_options("cap_scenario", options)
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
    choice = c1.selectbox("Scenario", options, key="cap_scenario", help="A shipped scenario or one saved in the "
                          "library (Scenario lab).", index=options.index("hawkes_baseline") if "hawkes_baseline" in options else 0)
    accounts = c2.number_input("Accounts", 100, 200_000, DEFAULT_ACCOUNTS, step=500, key="cap_accounts")
    days = c3.number_input("Horizon (days)", 7, 365, DEFAULT_DAYS, step=7, key="cap_days")
    try:
        source, scenario = chosen_scenario(choice, {"simulation.accounts": int(accounts),
                                                    "simulation.days": int(days)})
    except ScenarioError as err:
        st.error(error_text(err))
        return None
    text, currency = scenario.to_toml(), scenario.currency
    budget = c4.number_input(f"Budget ({currency}, variable spend)", min_value=0.0, value=None, step=1000.0,
                             key="cap_budget", placeholder="no limit")
    min_service = c5.checkbox("Every account gets at least a reminder", key="cap_min_service")
    return text, source, None if budget is None else float(budget), bool(min_service)


def show_plan(plan, team, now, curve, currency: str, drawn: str) -> None:
    """The plan's figures and tables; ``drawn`` keys its pictures in the cache (the request's digest)."""
    m1, m2, m3 = st.columns(3)
    m1.metric("objective: net + book at the horizon", f"{number(plan.objective)} {currency}")
    m2.metric("status", plan.status)
    if team is not None and team in plan.agent_value:
        worth = plan.agent_value[team]
        m3.metric(f"one more agent · {plain(team)}", f"{number(worth.per_agent)} {currency}",
                  help=f"{GLOSSARY_HELP['one more agent']} Over this horizon: {worth.per_agent_hour:,.2f} "
                       f"{currency} per paid hour against {worth.cost_per_agent_hour:,.2f} {currency} an agent "
                       "hour costs.")
    if plan.summary:
        st.markdown("**The plan by days-past-due bucket** (contacts per account a month its cadences ask for)")
        st.dataframe(tables.by_bucket(plan), hide_index=True, key="cap_by_bucket")
        st.dataframe(tables.predictions(plan, currency), hide_index=True, key="cap_summary")
    st.markdown("**Accounts by segment and treatment**", help=GLOSSARY_HELP['the "none" treatment'])
    st.dataframe(tables.allocation(plan), hide_index=True, key="cap_allocation", column_config=PINNED)
    st.caption("Segment: days-past-due bucket | risk | balance band. \"none\": left without contact by the plan.")
    st.markdown("**Capacity used against available, by team and week**", help=GLOSSARY_HELP["shadow price"])
    st.image(chart_png(drawn + "capacity", lambda: capacity_use(plan)))
    st.dataframe(tables.capacity(plan, currency), hide_index=True, key="cap_capacity")
    if curve:
        st.markdown("**What agents are worth: the optimal objective against the call team's head count**")
        st.image(chart_png(drawn + "agents", lambda: objective_by_agents(curve, team, now, currency)))
        st.dataframe(tables.agents_curve(curve, currency), hide_index=True, key="cap_agents_curve")
        if any(value is None for _, value in curve):
            st.caption("Infeasible: with that head count no allocation meets the constraints (the "
                       "capacity, the budget, every account's minimum service).")


def show_verification(solved: tuple, currency: str) -> None:
    st.markdown("**Verify by simulation**: run the plan's ladder and the scenario's own ladder on the "
                "same accounts and random streams, with the same teams.", help=GLOSSARY_HELP["the plan's three values"])
    v1, v2 = st.columns([1, 3])
    reps = v1.number_input("Replications", 1, 20, DEFAULT_REPS, key="cap_verify_reps")
    if v2.button("Verify by simulation", key="cap_verify"):
        st.session_state["cap_verify_request"] = (*solved, int(reps))
    checked = st.session_state.get("cap_verify_request")
    if checked is None or checked[:4] != solved:
        return
    with st.spinner("Simulating both ladders…"):
        result, optimised, strategy_toml = verify_plan(*checked)
    stale_banner(checked[4], int(reps), "Verify by simulation")
    st.dataframe(tables.verification(result, optimised, currency), hide_index=True, key="cap_verification")
    st.caption(f"{checked[4]:d} replications. The value model's figure is the optimizer's own estimate; the "
               "simulated one runs every interaction the LP leaves out.")
    st.download_button("The plan as a scenario (TOML)", strategy_toml, file_name=f"{optimised}.toml",
                       mime="application/toml", on_click="ignore", key="cap_strategy_toml")


with tab_plan:
    request = gather_plan_inputs()
    if request is not None and st.button("Solve the allocation", type="primary", key="cap_solve"):
        solved = request
        remember("cap", request, {k: st.session_state[k] for k in PLAN_WIDGETS if k in st.session_state})
    if solved is None:
        st.info("Choose a scenario and solve: segments × treatments, capacity per team and week.")
    else:
        with st.spinner("Valuing treatments and solving the LP…"):
            plan, team, now, curve = allocation(*solved)
        stale_banner(solved, request, "Solve the allocation")
        scenario = scenario_from_text(solved[0], solved[1])
        budget = "no budget limit" if solved[2] is None else f"budget {solved[2]:,.0f} {scenario.currency}"
        show_settings(settings_line([scenario], seed=scenario.simulation.seed,
                                    extra=budget + (", every account served" if solved[3] else "")))
        if not plan.ok:
            st.error(f"No allocation: the LP is {plain(plan.status)}.")
        else:
            show_plan(plan, team, now, curve, scenario.currency, cache_key(*solved))
            show_verification(solved, scenario.currency)


def gather_staff_inputs() -> tuple:
    st.caption("Calls per hour on the inbound line (borrowers calling back after reminders), and the line's "
               "targets, in the command line's units (python -m optimizer staff).")
    profile = pd.DataFrame({"hour": list(range(9, 18)), "calls": [18.0, 30, 38, 34, 26, 30, 34, 28, 20]})
    arrivals = st.data_editor(profile, num_rows="dynamic", hide_index=True, key="staff_arrivals",
                              column_config={"hour": st.column_config.NumberColumn("hour (0-23)", min_value=0,
                                                                                   max_value=23, step=1),
                                             "calls": st.column_config.NumberColumn("calls per hour", min_value=0)})
    s1, s2, s3, s4, s5 = st.columns(5)
    handle = s1.number_input("Mean handle (minutes)", 0.1, 120.0, 6.0, step=0.5, key="staff_handle",
                             help="Talk and wrap-up of one inbound call.")
    level = s2.number_input("Service level (%)", 5.0, 99.0, 80.0, step=5.0, key="staff_level",
                            help=GLOSSARY_HELP["service level"])
    within = s3.number_input("Answered within (seconds)", 1.0, 3600.0, 20.0, key="staff_within")
    shrinkage = s4.number_input("Shrinkage (%)", 0.0, 90.0, 30.0, step=5.0, key="staff_shrinkage",
                                help="Share of paid time agents are off the phones (breaks, training).")
    model = s5.selectbox("Model", ["erlang_c", "erlang_a"], key="staff_model")
    patience = st.number_input("Mean patience (minutes, Erlang A)", 0.1, 600.0, 3.0, key="staff_patience",
                               disabled=model != "erlang_a")
    patterns = st.text_area("Shift patterns, one a line (split shifts: 09:00-13:00+14:00-18:00)",
                            "09:00-13:00+14:00-18:00\n09:00-13:00\n10:00-14:00\n12:00-16:00\n13:00-17:00\n"
                            "14:00-18:00", key="staff_patterns")
    rows = [r for r in arrivals.to_dict("records") if not pd.isna(r["hour"]) and not pd.isna(r["calls"])]
    # The library takes seconds and fractions; % / 100 gives 0.8 and 0.3 exactly.
    return (tuple(sorted((int(r["hour"]), float(r["calls"])) for r in rows)), 60.0 * float(handle),
            float(level) / 100, float(within), float(shrinkage) / 100, model,
            60.0 * float(patience) if model == "erlang_a" else None,
            tuple(line.strip() for line in patterns.splitlines() if line.strip()))


def show_staffing(needs, roster) -> None:
    k1, k2, k3, k4 = st.columns(4)
    k1.metric("agents to roster (shifts)", "–" if roster.total_agents is None else f"{roster.total_agents:d}")
    # The roster minimises paid hours; efficiency is agent-hours needed ÷ paid hours.
    k2.metric("paid hours (efficiency)", "–" if roster.paid_hours is None
              else f"{roster.paid_hours:g} ({roster.efficiency or 0:.0%})")
    k3.metric("peak agents on the phones", max((r.agents for r in needs.values()), default=0))
    k4.metric("roster status", roster.status)
    if roster.success:
        st.pyplot(staffing_cover(roster.required, roster.coverage, {h: r.agents for h, r in needs.items()}))
        st.dataframe(pd.DataFrame([{"Shift": k, "Agents": v} for k, v in roster.agents.items() if v]),
                     hide_index=True, key="staff_roster")
    else:
        st.error(f"No roster: {plain(roster.message or roster.status)}")
    st.dataframe(tables.staffing_hours(needs), hide_index=True, key="staff_hours")


with tab_staff:
    staff_now = gather_staff_inputs()
    if st.button("Staff the line", key="staff_run"):
        staff = staff_now
        remember("staff", staff_now, {k: st.session_state[k] for k in STAFF_WIDGETS if k in st.session_state})
    if staff is not None:
        try:
            needs, roster = staffing(*staff)
        except ValueError as err:
            st.error(f"staffing: {error_text(err)}")
        else:
            stale_banner(staff, staff_now, "Staff the line")
            show_staffing(needs, roster)
