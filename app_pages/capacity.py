"""Capacity (planners): which segments get which treatment within the agents' hours, and the inbound line's staff.

The allocation is :func:`optimizer.allocation.allocate` (an LP over segments ×
treatments with team capacity per week); "verify by simulation" runs the
plan's ladder against the scenario's own with :func:`optimizer.allocation.verify`.
The inbound line is staffed with :mod:`optimizer.staffing.requirements` (Erlang C/A per
hour, then the shifts with the fewest paid hours that cover every hour).
"""

import pandas as pd
import streamlit as st

from app_support.charts import capacity_use, objective_by_agents, staffing_cover
from app_support.common import (
    DEFAULT_ACCOUNTS,
    DEFAULT_DAYS,
    DEFAULT_REPS,
    number,
    scenario_from_text,
    shipped_scenario_text,
    shipped_scenarios,
)
from app_support.runs import allocation, staffing, verify_plan
from app_support.text import error_text, plain
from sim.errors import ScenarioError

st.title("Capacity")
st.caption("The allocation maximises net collections within the horizon (collections − variable spend, complaints "
           "included) plus the value of the book left at it (scenario section [objective]), "
           "within each team's minutes per week and the budget. One more agent is the objective re-solved with "
           "one more agent's paid minutes in every week; a weekly shadow price is what one more agent hour "
           "(one more filing for legal) in that one week would add.")

shipped = shipped_scenarios()
c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
stem = c1.selectbox("Scenario", list(shipped), key="cap_scenario",
                    index=list(shipped).index("baseline") if "baseline" in shipped else 0)
accounts = c2.number_input("Accounts", 100, 200_000, DEFAULT_ACCOUNTS, step=500, key="cap_accounts")
days = c3.number_input("Horizon (days)", 7, 365, DEFAULT_DAYS, step=7, key="cap_days")
budget = c4.number_input("Budget (variable spend)", min_value=0.0, value=None, step=1000.0, key="cap_budget",
                         placeholder="no limit")
min_service = c5.checkbox("Every account gets at least a reminder", key="cap_min_service")

try:
    text = shipped_scenario_text(stem, {"simulation.accounts": int(accounts), "simulation.days": int(days)})
except ScenarioError as err:
    st.error(error_text(err))
    st.stop()
source = shipped[stem].name
request = (text, source, None if budget is None else float(budget), bool(min_service))

tab_plan, tab_staff = st.tabs(["Allocation", "Inbound staffing"])

with tab_plan:
    if st.button("Solve the allocation", type="primary", key="cap_solve"):
        st.session_state["cap_request"] = request
    solved = st.session_state.get("cap_request")
    if solved is None:
        st.info("Choose a scenario and solve: segments × treatments, capacity per team and week.")
    else:
        with st.spinner("Valuing treatments and solving the LP…"):
            plan, team, now, curve = allocation(*solved)
        if not plan.ok:
            st.error(f"No allocation: the LP is {plain(plan.status)}.")
        else:
            m1, m2, m3 = st.columns(3)
            m1.metric("objective: net + book at the horizon", number(plan.objective))
            m2.metric("status", plan.status)
            if team is not None and team in plan.agent_value:
                worth = plan.agent_value[team]
                m3.metric(f"one more agent · {plain(team)}", number(worth.per_agent),
                          help=f"over the horizon, the LP re-solved with one more agent's paid minutes in every "
                               f"week: {worth.per_agent_hour:,.2f} per paid hour against "
                               f"{worth.cost_per_agent_hour:,.2f} an agent costs")
            if plan.summary:
                st.markdown("**The plan by days-past-due bucket** (contacts per account a month its cadences ask for)")
                st.dataframe(pd.DataFrame([
                    {"bucket": bucket, "accounts": row["accounts"], "uncontacted": row["uncontacted"],
                     "treatments": ", ".join(f"{name} {n:,}" for name, n in row["treatments"].items()),
                     "contacts a month": ", ".join(f"{ch} {v:g}" for ch, v in
                                                   row["contacts_per_account_per_month"].items())}
                    for bucket, row in plan.summary["by_bucket"].items()]), hide_index=True, key="cap_by_bucket")
                mine, own = plan.summary["plan"], plan.summary["own_ladder"]
                st.dataframe(pd.DataFrame([
                    {"predicted": label, "plan": mine.get(key), f"ladder {own['name']}": own.get(key)}
                    for label, key in (("collections", "collected"), ("variable spend", "variable_spend"),
                                       ("cost to collect a dollar", "cost_to_collect_a_dollar"),
                                       ("1-30 accounts reaching 31 dpd", "roll_1_30_past_30"),
                                       ("written off", "written_off"), ("value of the book at the horizon",
                                                                        "horizon_value"))]),
                    hide_index=True, key="cap_summary")
            st.markdown("**Accounts by segment and treatment**")
            table = pd.DataFrame(plan.allocation())
            st.dataframe(table.pivot_table(index="segment", columns="treatment", values="accounts",
                                           aggfunc="sum", fill_value=0, sort=False), key="cap_allocation")
            st.markdown("**Capacity used against available, by team and week**")
            st.pyplot(capacity_use(plan))
            rows = []
            for (name, week), available in plan.capacity.items():
                scale = 1.0 if plan.units.get(name) == "filings" else 1 / 60
                rows.append({"team": name, "week": week, "unit": "filings" if scale == 1.0 else "agent hours",
                             "available": round(available * scale, 1),
                             "used": round(plan.capacity_used.get((name, week), 0.0) * scale, 1),
                             "shadow price": round(plan.shadow_prices()[f"{name}/{week}"], 2)})
            st.dataframe(pd.DataFrame(rows), hide_index=True, key="cap_capacity")
            if curve:
                st.markdown("**What agents are worth: the optimal objective against the call team's head count**")
                st.pyplot(objective_by_agents(curve, team, now))
                st.dataframe(pd.DataFrame([
                    {"agents": agents, "optimal objective": "infeasible" if value is None else number(value)}
                    for agents, value in curve]), hide_index=True, key="cap_agents_curve")
                if any(value is None for _, value in curve):
                    st.caption("Infeasible: with that head count no allocation meets the constraints (the "
                               "capacity, the budget, every account's minimum service).")
            st.markdown("**Verify by simulation**: run the plan's ladder and the scenario's own ladder on the "
                        "same accounts and random streams, with the same teams.")
            v1, v2 = st.columns([1, 3])
            reps = v1.number_input("Replications", 1, 20, DEFAULT_REPS, key="cap_verify_reps")
            if v2.button("Verify by simulation", key="cap_verify"):
                st.session_state["cap_verify_request"] = (*solved, int(reps))
            checked = st.session_state.get("cap_verify_request")
            if checked is not None and checked[:4] == solved:
                with st.spinner("Simulating both ladders…"):
                    verification, optimised, strategy_toml = verify_plan(*checked)
                rows = []
                for label in verification.labels:
                    runs = verification.net_recovery[label]
                    row = {"strategy": label, "simulated net recovery": number(sum(runs) / len(runs)),
                           "value model's net recovery": number(verification.predicted[label])}
                    if label != optimised:
                        d = verification.difference(optimised, label)
                        row["plan − this (95 % CI)"] = (f"{d['mean']:+,.0f} ({d['low']:+,.0f} … {d['high']:+,.0f})"
                                                       if verification.reps > 1 else f"{d['mean']:+,.0f}")
                    rows.append(row)
                st.dataframe(pd.DataFrame(rows), hide_index=True, key="cap_verification")
                st.download_button("The plan as a scenario (TOML)", strategy_toml, file_name=f"{optimised}.toml",
                                   mime="application/toml", on_click="ignore", key="cap_strategy_toml")

with tab_staff:
    st.caption("Calls per hour on the inbound line (borrowers calling back after reminders). Handle time, "
               "the answer-within threshold and patience are in seconds.")
    # The default handle time is the scenario's own inbound handle time.
    call_teams = [t for t in scenario_from_text(text, source).teams.values() if t.kind == "call"]
    team_handle = 60.0 * call_teams[0].handle_minutes.inbound if call_teams else 360.0
    profile = pd.DataFrame({"hour": list(range(9, 18)), "calls": [18.0, 30, 38, 34, 26, 30, 34, 28, 20]})
    arrivals = st.data_editor(profile, num_rows="dynamic", hide_index=True, key="staff_arrivals",
                              column_config={"hour": st.column_config.NumberColumn("hour (0-23)", min_value=0,
                                                                                   max_value=23, step=1),
                                             "calls": st.column_config.NumberColumn("calls per hour", min_value=0)})
    s1, s2, s3, s4, s5 = st.columns(5)
    handle = s1.number_input("Mean handle (s)", 1.0, 7200.0, team_handle, key="staff_handle")
    level = s2.number_input("Service level", 0.05, 0.99, 0.8, step=0.05, key="staff_level")
    within = s3.number_input("Answered within (s)", 1.0, 3600.0, 20.0, key="staff_within")
    shrinkage = s4.number_input("Shrinkage", 0.0, 0.9, 0.3, step=0.05, key="staff_shrinkage")
    model = s5.selectbox("Model", ["erlang_c", "erlang_a"], key="staff_model")
    patience = st.number_input("Mean patience (s, Erlang A)", 1.0, 36000.0, 180.0, key="staff_patience",
                               disabled=model != "erlang_a")
    patterns = st.text_area("Shift patterns, one a line (split shifts: 09:00-13:00+14:00-18:00)",
                            "09:00-13:00+14:00-18:00\n09:00-13:00\n10:00-14:00\n12:00-16:00\n13:00-17:00\n"
                            "14:00-18:00", key="staff_patterns")
    if st.button("Staff the line", key="staff_run"):
        rows = [r for r in arrivals.to_dict("records") if not pd.isna(r["hour"]) and not pd.isna(r["calls"])]
        st.session_state["staff_request"] = (
            tuple(sorted((int(r["hour"]), float(r["calls"])) for r in rows)), float(handle), float(level),
            float(within), float(shrinkage), model, float(patience) if model == "erlang_a" else None,
            tuple(line.strip() for line in patterns.splitlines() if line.strip()))
    staff = st.session_state.get("staff_request")
    if staff is not None:
        try:
            needs, roster = staffing(*staff)
        except ValueError as err:
            st.error(f"staffing: {error_text(err)}")
        else:
            k1, k2, k3, k4 = st.columns(4)
            k1.metric("agents to roster (shifts)", "–" if roster.total_agents is None else f"{roster.total_agents:d}")
            # The roster minimises paid hours; efficiency is agent-hours needed ÷ paid hours.
            k2.metric("paid hours (efficiency)", "–" if roster.paid_hours is None
                      else f"{roster.paid_hours:g} ({roster.efficiency or 0:.0%})")
            k3.metric("peak agents on the phones", max((r.agents for r in needs.values()), default=0))
            k4.metric("roster status", roster.status)
            if roster.success:
                st.pyplot(staffing_cover(roster.required, roster.coverage, {h: r.agents for h, r in needs.items()}))
                st.dataframe(pd.DataFrame([{"shift": k, "agents": v} for k, v in roster.agents.items() if v]),
                             hide_index=True, key="staff_roster")
            else:
                st.error(f"No roster: {plain(roster.message or roster.status)}")
            st.dataframe(pd.DataFrame([{
                "hour": h, "calls": r.metrics.arrival_rate, "on the phones": r.agents, "rostered": r.rostered,
                "service level": f"{100 * r.metrics.service_level:.1f} %", "mean wait (s)": round(r.metrics.mean_wait, 1),
                "abandon": f"{100 * r.metrics.p_abandon:.1f} %", "occupancy": f"{100 * r.metrics.occupancy:.0f} %",
            } for h, r in needs.items()]), hide_index=True, key="staff_hours")
