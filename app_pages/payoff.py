"""Debt payoff (borrowers' advisors): in what order to pay, when the client is debt-free, what minimums cost.

The debts come from a shipped example, an uploaded debt file (TOML) or debt
table (CSV), and can be edited in the page; :func:`optimizer.payoff.advisor.advise`
runs the strategies, the least-cost plan and the minimum-payment trap. The
client's other questions — the budget to be debt-free by a date, the file's
options next to carrying on as today, a budget that drops — are answered
below the plans, and the chosen plan downloads as a printable page.
"""

import pandas as pd
import streamlit as st

from app_support.charts import debt_balances
from app_support.common import UPLOAD_LIMIT_MB, money, shipped_debt_files
from app_support.debts import (
    COLUMNS,
    OPTION_COLUMNS,
    debts_from_rows,
    debts_from_upload,
    option_rows,
    table_rows,
    with_options,
)
from app_support.payoff_views import (
    balances_chart,
    client_answers,
    comparison_frame,
    covers,
    debt_free_text,
    options_chart,
    options_frame,
    payments_frame,
    printable_plan,
    stress_frame,
    target_frame,
)
from app_support.runs import debts_json, payoff_advice
from app_support.text import error_text, plain
from optimizer.payoff.advisor import STANDARD_STRATEGIES, STRATEGIES
from optimizer.payoff.model import load_debts
from optimizer.payoff.option_terms import TERMS
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
# Short names in the chips, so every one selected shows; what each does is in the help.
strategies = c2.multiselect("Strategies", options,
                            default=[s for s in options if s != "custom" and s in STANDARD_STRATEGIES],
                            key="payoff_strategies",
                            help="  \n".join(f"**{s}**: {DESCRIPTIONS[s]}" for s in options))

q1, q2, q3 = st.columns([1, 1, 1])
target = q1.text_input("Debt-free by (YYYY-MM)", key="payoff_target", placeholder="e.g. 2028-06",
                       help="The least constant monthly budget, to the cent, with which each strategy is "
                            "debt-free by this month (the file needs a start month).")
stress_on = q2.checkbox("Stress: the budget drops", key="payoff_stress_on",
                        help="A job lost or hours cut: from a month on, the budget falls by a share.")
stress = ""
if stress_on:
    s1, s2 = q2.columns(2)
    stress_from = s1.text_input("from (YYYY-MM or month)", value="12", key="payoff_stress_from")
    stress_drop = s2.number_input("drop (share)", min_value=0.05, max_value=1.0, value=0.4, step=0.05,
                                  key="payoff_stress_drop")
    stress = f"from={stress_from.strip()},drop={stress_drop}"
compare = q3.checkbox("Compare options", value=True, key="payoff_options",
                      help="Consolidation loan, balance transfer, debt management plan, settlement, 账单分期 "
                           "(instalment conversion): edit them in the options table below the debts, or start "
                           "from the debts_options example.")

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
st.markdown("**Options to compare** (one row each; `debts`: names separated by commas, all when blank; `fee`: "
            "a loan's origination fee, a transfer's or settlement company's fee, as a share)")
edited_options = st.data_editor(
    pd.DataFrame(option_rows(base), columns=list(OPTION_COLUMNS)), num_rows="dynamic", hide_index=True,
    key=f"payoff_options_{source}",
    column_config={
        "kind": st.column_config.SelectboxColumn("kind", options=list(TERMS)),
        "apr": st.column_config.NumberColumn("APR", format="%.4f", help="the loan's, the transfer card's after "
                                                                          "the promotion, the plan's reduced rate"),
        "months": st.column_config.NumberColumn("months", format="%d", help="a loan's or a conversion's term"),
        "promo_months": st.column_config.NumberColumn("promo months", format="%d"),
        "payment_share": st.column_config.NumberColumn("payment share", format="%.4f",
                                                       help="a plan's monthly payment as a share of the balance"),
        "monthly_fee": st.column_config.NumberColumn("monthly fee", format="%.4f",
                                                     help="a plan's program fee (money); a conversion's share"),
        "forgiven": st.column_config.NumberColumn("forgiven", format="%.2f", help="a settlement's share forgiven"),
        "month": st.column_config.NumberColumn("paid by month", format="%d", help="when a settlement is paid"),
    },
)
try:
    debts = debts_from_rows(edited.to_dict("records"), base, None, source)
    debts = with_options(debts, edited_options.to_dict("records"), source)
except ScenarioError as err:
    st.error(error_text(err))
    debts = None

current = None if debts is None else (debts_json(debts), source, tuple(strategies),
                                      None if budget is None else float(budget), target, stress,
                                      bool(compare and debts.options))
if st.button("Plan the payoff", type="primary", key="payoff_run", disabled=debts is None or not strategies):
    st.session_state["payoff_request"] = current

request = st.session_state.get("payoff_request")
if request is None:
    st.info("Check the debts and the budget, then plan the payoff.")
    st.stop()
if current != request:
    st.warning("The inputs have changed since these results were planned: what follows is for "
               + plain(request[1]) + ". Press Plan the payoff to update.", icon="⚠️")

try:
    with st.spinner("Planning…"):
        advice = payoff_advice(*request[:4])
        answers = client_answers(request[0], request[1], request[3], request[2], *request[4:])
except ScenarioError as err:
    st.error(error_text(err))
    st.stop()
debts = advice.debts
currency = debts.currency
st.caption(plain(  # the currency is the debt file's text
    f"{request[1]}: {len(debts.debts)} debts, {money(sum(d.balance for d in debts.debts), currency)} owed, "
    f"budget {money(debts.budget, currency)} a month" + (f" from {debts.calendar_month(1)}" if debts.start else "")
    + "".join(f"; from month {c.month}: {money(c.amount, currency)}" for c in debts.budget_changes)
    + "".join(f"; extra {money(e.amount, currency)} in month {e.month}" for e in debts.extra_payments)))

columns = st.columns(len(advice.plans))
for column, plan in zip(columns, advice.plans, strict=True):
    column.metric(f"debt-free · {plain(plan.strategy)}", debt_free_text(plan, debts),
                  help=f"after {plan.months} months" if plan.pays_off else plain(covers(plan)))
    if plan.status == "infeasible":
        column.metric(f"total interest · {plain(plan.strategy)}", "infeasible", help=plain(covers(plan)))
    elif plan.pays_off:
        column.metric(f"total interest · {plain(plan.strategy)}", money(plan.total_interest, currency))
    else:  # a plan that never ends is booked until it stalls: its interest so far is not a total
        column.metric(plain(f"interest, first {plan.months_simulated} months · {plan.strategy}"),
                      money(plan.total_interest, currency), help="the plan never pays off; the rest is not counted")

st.subheader("Strategies side by side")
st.dataframe(comparison_frame(advice), hide_index=True, key="payoff_comparison")

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
st.caption("The total still owed after each month's payment, every plan side by side.")
balances_chart(advice)
shown = [p for p in advice.plans if p.schedule]
if shown:
    pick = st.selectbox("Each debt under one plan", [p.strategy for p in shown], key="payoff_chart_plan")
    st.pyplot(debt_balances(next(p for p in shown if p.strategy == pick), currency))

optimal = next((p for p in advice.plans if p.strategy == "optimal"), None)
if optimal is not None:
    st.subheader("The optimal plan")
    st.code("\n".join(plan_lines(optimal, debts)), language=None, wrap_lines=True)
    if optimal.schedule:
        st.dataframe(payments_frame(optimal, debts), hide_index=True, key="payoff_optimal_schedule")

for line in answers["errors"]:
    st.error(plain(line))
if "target" in answers:
    st.subheader(plain(f"Debt-free by {answers['target'].target_date}"))
    st.caption("The least constant monthly budget, to the cent, for each strategy (the file's budget changes "
               "are set aside; its one-off extras count).")
    st.dataframe(target_frame(answers["target"], currency), hide_index=True, key="payoff_target_table")
if "options" in answers:
    comparison = answers["options"]
    st.subheader("Options next to carrying on as today")
    st.caption(plain(f"Each option is booked month by month with the same budget and the {comparison.strategy} "
                     "order. APR (IRR): the true annual cost of a loan, transfer or 账单分期, fees included."))
    st.dataframe(options_frame(comparison, debts), hide_index=True, key="payoff_options_table",
                 column_config={"Against today": st.column_config.TextColumn(width="large")})
    options_chart(comparison, currency)
    with st.expander("What each option assumes"):
        for option in comparison.options:
            st.markdown(plain(f"{option.name}: " + " ".join(option.notes)))
if "stress" in answers:
    drop, outcomes = answers["stress"]
    st.subheader(plain(f"If {drop.label(debts)}"))
    st.dataframe(stress_frame(outcomes, debts), hide_index=True, key="payoff_stress_table")

st.subheader("For the client")
printable = [p.strategy for p in advice.plans if p.schedule]
if printable:
    default = printable.index("optimal") if "optimal" in printable else 0
    chosen = st.selectbox("Plan to print", printable, index=default, key="payoff_print_plan")
    st.download_button("Printable plan (HTML)", printable_plan(advice, chosen, answers),
                       file_name=f"payoff-plan-{chosen}.html", mime="text/html", on_click="ignore",
                       key="payoff_plan_html")
st.download_button("Schedules (CSV)", schedule_csv(advice), file_name="payoff-schedule.csv", mime="text/csv",
                   on_click="ignore", key="payoff_csv")
