"""Debt payoff (borrowers' advisors): in what order to pay, when the client is debt-free, what minimums cost.

The debts come from a shipped example, an uploaded debt file (TOML) or debt
table (CSV), and can be edited in the page; :func:`optimizer.payoff.advisor.advise`
runs the strategies, the least-cost plan and the minimum-payment trap.
"""

import pandas as pd
import streamlit as st

from app_support.charts import debt_balances
from app_support.common import UPLOAD_LIMIT_MB, money, shipped_debt_files
from app_support.debts import COLUMNS, debts_from_rows, debts_from_upload, table_rows
from app_support.runs import debts_json, payoff_advice
from app_support.text import error_text, plain
from optimizer.payoff.advisor import STANDARD_STRATEGIES, STRATEGIES
from optimizer.payoff.model import load_debts
from optimizer.payoff.report import DESCRIPTIONS, plan_lines, schedule_csv
from sim.errors import ScenarioError

st.title("Debt payoff")
st.caption("Every plan pays all minimums first, then puts the rest of the budget where the strategy says; "
           "interest and fees are booked to the cent the way a lender does.")

examples = shipped_debt_files()
left, right = st.columns([2, 3])
example = left.selectbox("Example debts", list(examples), key="payoff_example",
                         index=list(examples).index("household") if "household" in examples else 0)
upload = right.file_uploader("Or upload a debt file (TOML) or a debt table (CSV: " + ", ".join(COLUMNS) + ")",
                             type=["toml", "csv"], max_upload_size=UPLOAD_LIMIT_MB, key="payoff_upload")

base = load_debts(examples[example])
source = examples[example].name
if upload is not None:
    try:
        base = debts_from_upload(upload.name, upload.getvalue(), None)
        source = upload.name
    except ScenarioError as err:
        st.error(error_text(err))  # the command line's line, as typed: no Markdown
        st.caption(f"Using {plain(source)} until the upload is fixed.")

c1, c2 = st.columns([1, 3])
budget = c1.number_input(f"Monthly budget ({base.currency})", min_value=0.0, max_value=1e9, value=None,
                         step=50.0, key="payoff_budget", placeholder=f"{base.budget:,.0f} (the file's)")
options = [s for s in STRATEGIES if s != "custom" or base.custom_order]
strategies = c2.multiselect("Strategies", options,
                            default=[s for s in options if s != "custom" and s in STANDARD_STRATEGIES],
                            key="payoff_strategies", format_func=lambda s: f"{s}: {DESCRIPTIONS[s]}")

st.markdown(f"**Debts** ({plain(source)}; edit any cell, add or delete rows — other terms in the file, such as "
            "promotional rates, stay with the debt of the same name)")
edited = st.data_editor(
    pd.DataFrame(table_rows(base), columns=list(COLUMNS)), num_rows="dynamic", hide_index=True,
    key=f"payoff_debts_{source}",
    column_config={
        "name": st.column_config.TextColumn("name", required=True),
        "balance": st.column_config.NumberColumn("balance", format="%.2f"),
        "apr": st.column_config.NumberColumn("APR (0.25 = 25 %)", format="%.4f"),
        "min_percent": st.column_config.NumberColumn("minimum: % of balance", format="%.3f"),
        "min_floor": st.column_config.NumberColumn("minimum: floor", format="%.2f"),
        "min_fixed": st.column_config.NumberColumn("minimum: fixed", format="%.2f"),
        "late_fee": st.column_config.NumberColumn("late fee", format="%.2f"),
        "penalty_apr": st.column_config.NumberColumn("penalty APR", format="%.4f"),
    },
)
try:
    debts = debts_from_rows(edited.to_dict("records"), base, None, source)
except ScenarioError as err:
    st.error(error_text(err))
    debts = None

if st.button("Plan the payoff", type="primary", key="payoff_run", disabled=debts is None or not strategies):
    st.session_state["payoff_request"] = (debts_json(debts), source, tuple(strategies),
                                          None if budget is None else float(budget))

request = st.session_state.get("payoff_request")
if request is None:
    st.info("Check the debts and the budget, then plan the payoff.")
    st.stop()

try:
    with st.spinner("Planning…"):
        advice = payoff_advice(*request)
except ScenarioError as err:
    st.error(error_text(err))
    st.stop()
debts = advice.debts
currency = debts.currency
st.caption(plain(  # the currency is the debt file's text
    f"{len(debts.debts)} debts, {money(sum(d.balance for d in debts.debts), currency)} owed, "
    f"budget {money(debts.budget, currency)} a month" + (f" from {debts.calendar_month(1)}" if debts.start else "")
    + "".join(f"; from month {c.month}: {money(c.amount, currency)}" for c in debts.budget_changes)
    + "".join(f"; extra {money(e.amount, currency)} in month {e.month}" for e in debts.extra_payments)))

columns = st.columns(len(advice.plans))
for column, plan in zip(columns, advice.plans, strict=True):
    when = (debts.calendar_month(plan.months) or f"month {plan.months}") if plan.pays_off else "never"
    column.metric(f"debt-free · {plain(plan.strategy)}", when,
                  help=f"after {plan.months} months" if plan.pays_off else plan.status)
    column.metric(f"total interest · {plain(plan.strategy)}", money(plan.total_interest, currency))

st.subheader("Strategies side by side")
rows = advice.comparison()
for row, plan in zip(rows, advice.plans, strict=True):
    row["debt_free"] = debts.calendar_month(plan.months) if plan.pays_off else None
st.dataframe(pd.DataFrame(rows), hide_index=True, key="payoff_comparison")

if advice.budget_needed:
    needed = ", ".join(f"{s}: {money(v, currency)}" for s, v in advice.budget_needed.items())
    st.warning("Somewhere along the way this budget does not cover every minimum payment (late fees and penalty "
               f"rates follow). The least constant monthly budget that would, by plan: {plain(needed)}.")

trap = advice.trap
st.subheader("The minimum-payment trap")
if trap.pays_off:
    st.warning(plain(f"Paying only the minimums takes {trap.months} months and costs "
                     f"{money(trap.total_interest, currency)} in interest "
                     f"({money(trap.total_paid, currency)} paid in all)."))
else:
    st.warning(plain("Paying only the minimums: " + " ".join(line.strip() for line in plan_lines(trap, debts)[1:])))

st.subheader("Balances over time")
shown = [p for p in advice.plans if p.schedule]
if shown:
    pick = st.selectbox("Plan", [p.strategy for p in shown], key="payoff_chart_plan")
    st.pyplot(debt_balances(next(p for p in shown if p.strategy == pick), currency))

optimal = next((p for p in advice.plans if p.strategy == "optimal"), None)
if optimal is not None:
    st.subheader("The optimal plan")
    st.code("\n".join(plan_lines(optimal, debts)), language=None)
    if optimal.schedule:
        payments = pd.DataFrame([r.as_dict() for r in optimal.schedule]).pivot_table(
            index="month", columns="debt", values="payment", aggfunc="sum", sort=False)
        st.dataframe(payments, key="payoff_optimal_schedule")

st.download_button("Schedules (CSV)", schedule_csv(advice), file_name="payoff-schedule.csv", mime="text/csv",
                   on_click="ignore", key="payoff_csv")
