"""The management report: one self-contained HTML file a manager can mail about a stored experiment.

:func:`report_html` reads an experiment from the results store (a single run,
a compare, a sweep or a sensitivity) and writes the question, the set-up
(scenarios with their hashes, sizes, replications, seed, code version, date),
the headline in plain words (which strategy wins on net recovery and on
complaints, and how sure), the KPI table with intervals, the paired
differences against the champion, the flow-rate waterfall, the recovery
curves with bands, the cost to collect a dollar, complaints, the capacity
used, and the assumptions with their sources.

The file loads nothing: the charts are inline SVG from matplotlib (text drawn
as paths, so no fonts), the style sheet is inline (with a print style), and
there is no script but the data: the report's numbers as JSON in
``<script type="application/json" id="repaylab-data">``, so that a reader's
tool (or a test) can check them against the store. Every text that came from
a user (scenario names, labels, the title) is HTML-escaped.

The numbers are the experiment's own: each stored replication is read back
and summarised by :func:`sim.experiment.summarize`, as ``compare`` did.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import math
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from .errors import InputError
from .experiment import Comparison, Estimate, Replication, estimate, summarize
from .formats import TABLE_KPIS, fmt_estimate

BUCKETS = ("1-30", "31-60", "61-90", "91-120", "121-150", "151-180")
HIGHER_IS_BETTER = {"net_recovery": True, "complaints_per_1000": False}

# The model's assumptions and where each is sourced (plain text: the file loads nothing).
ASSUMPTIONS = (
    ("Borrower repayments", "a self-exciting point process by bucket and risk segment, raised by every "
     "repayment and every treatment that reaches the borrower (Chehrazi & Weber, Management Science 61(12), "
     "2015; Chehrazi, Glynn & Weber, Management Science 65(6), 2019)", "scenarios/README.md, section [behavior]"),
    ("The book", "bucket shares, balances, APR, fees and charge-off at 180 days past due for cards (FFIEC "
     "Uniform Retail Credit Classification, OCC Bulletin 2000-20)", "scenarios/README.md, section [portfolio]"),
    ("Contact rules", "the scenario's compliance preset (Reg F, Massachusetts or the China 2025 standard): "
     "contact window, caps on attempts, quiet days; refused contacts are counted, never made",
     "scenarios/README.md, section [compliance]"),
    ("Costs", "unit costs of messages, letters, agent time, visits, filings, agency commission and handled "
     "complaints", "scenarios/README.md, section [costs]"),
    ("Capacity", "agents, shifts and handling times of each team; utilisation is minutes talking or dialling "
     "over paid shift minutes", "scenarios/README.md, section [teams.NAME]"),
    ("Discounting", "NPV of collections at simulation.discount_rate a year (0.06 by default, the rate of "
     "Chehrazi, Glynn & Weber 2019)", "scenarios/README.md, section [simulation]"),
    ("Statistics", "each replication runs every strategy on the same accounts with the same random streams "
     "(common random numbers); means with Student-t intervals over replications; differences paired by "
     "replication. One replication gives no interval.", "README.md, section Experiments"),
    ("Fidelity", "a simulation, not the lender's data: the flows are checked against published ranges",
     "python -m sim fidelity; DOMAIN.md"),
)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1b1b1b;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #2b5c8a; padding-bottom: 0.15em;
     margin-top: 1.8em; font-size: 1.3em; }
.meta { color: #555; } .headline li { margin: 0.3em 0; font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; } th { background: #eef3f8; }
td.sig { background: #e4f1e4; } .note { color: #555; font-size: 0.9em; }
figure.chart { margin: 1em 0; } figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; } details pre { font-size: 0.8em; white-space: pre-wrap; }
code { font-size: 0.95em; }
@media print {
  body { max-width: none; margin: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure.chart, table { break-inside: avoid; page-break-inside: avoid; }
  section { break-inside: auto; } details { display: none; }
  a { color: inherit; text-decoration: none; }
  @page { size: A4; margin: 15mm; }
}
"""


def esc(text: Any) -> str:
    """``text`` made safe to put in HTML (elements and attributes)."""
    return html.escape(str(text), quote=True)


# ----------------------------------------------------------------------------- data from the store


@dataclass
class ReportData:
    """One experiment as the report shows it."""

    experiment: dict[str, Any]
    details: dict[str, Any]
    comparison: Comparison
    nested: list[list[dict[str, Any]]]  # per scenario, per replication: the stored nested KPIs
    series: Any  # pandas: the daily series, long format
    reps_used: int
    # Champion/challenger scenarios: (label, ArmsComparison, counts by strategy), see sim.report_arms.
    arms: list = field(default_factory=list)
    # A sensitivity experiment's swings (sim.sweep.SensitivityResult), for the tornado.
    sensitivity: Any = None
    # Scenarios whose ladder makes offers: (label, {kind: mean KPIs}), see sim.report_offers.
    offers: list = field(default_factory=list)


def _complete_replications(frame, count: int) -> list[int]:
    """Replications stored for every scenario (an interrupted experiment may lack some)."""
    by_rep = frame.groupby("rep")["scenario_index"].nunique()
    return sorted(int(rep) for rep, n in by_rep.items() if n == count)


def load_report_data(store, experiment_id: str) -> ReportData:
    """Read an experiment back from the store and summarise its complete replications."""
    experiment = store.find_experiment(experiment_id)
    eid = experiment["id"]
    details = store.experiment_details(eid)
    frame = store.experiment_kpis(eid)
    scenarios = details["scenarios"]
    reps = _complete_replications(frame, len(scenarios)) if not frame.empty else []
    if not reps:
        raise InputError(store.path, "experiment", f"{eid} has no replication stored for every scenario; "
                                                   "run the same command again to resume it")
    run_ids = {(int(r.scenario_index), int(r.rep)): r.run_id for r in frame.itertuples()}
    stored = store.load_runs(run_ids.values())
    replications = [[Replication.from_stored(run_ids[(s["index"], k)], stored[run_ids[(s["index"], k)]])
                     for k in reps] for s in scenarios]
    nested = [[stored[run_ids[(s["index"], k)]]["kpis_all"] for k in reps] for s in scenarios]
    labels = [s["label"] for s in scenarios]
    summaries, differences = summarize(labels, [s["name"] or s["label"] for s in scenarios],
                                       [s["scenario_hash"] for s in scenarios], replications)
    comparison = Comparison(summaries, differences, replications, len(reps), experiment["seed"],
                            experiment["code_version"], eid, experiment["kind"], spec=details["spec"])
    series = store.experiment_series(eid)
    series = series[series["rep"].isin(reps)]
    data = ReportData(experiment, details, comparison, nested, series, len(reps))
    from .report_arms import arms_summaries

    data.arms = arms_summaries(data)
    from .report_offers import offer_means

    data.offers = offer_means(data)
    if comparison.kind == "sensitivity":
        from .sweep import stored_sensitivity

        data.sensitivity = stored_sensitivity(comparison, scenarios[0]["content"], details["spec"])
    return data


# ----------------------------------------------------------------------------- numbers


def cost_per_dollar(data: ReportData) -> list[Estimate]:
    """Cost to collect one unit of money, per scenario, over replications (NaN if nothing was collected)."""
    out = []
    for reps in data.comparison.replications:
        ratios = [r.kpis["cost"] / r.kpis["collected"] if r.kpis["collected"] > 0 else math.nan for r in reps]
        out.append(estimate(ratios, data.comparison.confidence))
    return out


def flow_rates(data: ReportData) -> list[dict[str, float]]:
    """Per scenario, the mean monthly flow rate from each bucket to the next (151-180 → charged off)."""
    out = []
    for summary, nested in zip(data.comparison.scenarios, data.nested, strict=True):
        states = list(nested[0]["roll_rates"]["states"])
        matrix = summary.roll_rates
        flows = {}
        for bucket in BUCKETS:
            if bucket not in states:
                continue
            i = states.index(bucket)
            nxt = BUCKETS[BUCKETS.index(bucket) + 1] if bucket != BUCKETS[-1] else "charged_off"
            if nxt in states:
                flows[f"{bucket} → {nxt}"] = float(matrix[i, states.index(nxt)])
        out.append(flows)
    return out


def mean_nested(data: ReportData, key: str) -> list[dict[str, float]]:
    """Per scenario, the mean over replications of a nested KPI dict (``cost_by_item``, ``contacts``)."""
    out = []
    for nested in data.nested:
        keys = sorted({k for run in nested for k in run.get(key, {})})
        out.append({k: float(np.mean([run.get(key, {}).get(k, 0.0) for run in nested])) for k in keys})
    return out


def _best(comparison: Comparison, kpi: str) -> int:
    means = [s.kpis[kpi].mean for s in comparison.scenarios]
    return int(np.argmax(means) if HIGHER_IS_BETTER[kpi] else np.argmin(means))


def _sure(estimate_: Estimate, confidence: float) -> str:
    if not math.isfinite(estimate_.ci_low):
        return "one replication: no interval, so how sure cannot be said"
    if estimate_.significant:
        return f"significant at {confidence:.0%}"
    return f"not distinguishable at {confidence:.0%}"


def headline(comparison: Comparison) -> list[str]:
    """The findings in plain words: who wins on net recovery and on complaints, and how sure."""
    words = {"net_recovery": ("net recovery", "highest", ""),
             "complaints_per_1000": ("complaints", "fewest", " complaints per 1000 accounts")}
    champion = comparison.champion
    lines = []
    if len(comparison.scenarios) == 1:
        s = comparison.scenarios[0]
        spread = ("" if comparison.reps < 2 else f" over {comparison.reps} replications")
        return [f"{s.label}: net recovery {fmt_estimate('net_recovery', s.kpis['net_recovery'])}, "
                f"{fmt_estimate('complaints_per_1000', s.kpis['complaints_per_1000'])} complaints per 1000 "
                f"accounts{spread}. A single strategy: nothing to compare it with."]
    for kpi, (name, most, unit) in words.items():
        best = comparison.scenarios[_best(comparison, kpi)]
        if best.label != champion:
            d = comparison.difference(best.label, kpi).estimate
            lines.append(f"{best.label} has the {most} {name}: {fmt_estimate(kpi, d, signed=True)}{unit} against the "
                         f"champion {champion}; {_sure(d, comparison.confidence)}.")
            continue
        verdicts = [f"{c.label} {fmt_estimate(kpi, comparison.difference(c.label, kpi).estimate, signed=True)}{unit} "
                    f"({_sure(comparison.difference(c.label, kpi).estimate, comparison.confidence)})"
                    for c in comparison.scenarios[1:]]
        lines.append(f"The champion {champion} has the {most} {name}; the challengers against it: "
                     + "; ".join(verdicts) + ".")
    return lines


def payload(data: ReportData, title: str) -> dict[str, Any]:
    """The report's numbers as plain JSON data (NaN as null)."""
    c = data.comparison
    costs = cost_per_dollar(data)
    flows = flow_rates(data)
    items = mean_nested(data, "cost_by_item")
    scenarios = []
    for s, meta, cost, flow, item in zip(c.scenarios, data.details["scenarios"], costs, flows, items, strict=True):
        scenarios.append({"label": s.label, "name": s.name, "hash": s.scenario_hash,
                          "accounts": meta["accounts"], "days": meta["days"], "start_date": meta["start_date"],
                          "kpis": {k: e.to_json() for k, e in s.kpis.items()},
                          "cost_per_dollar_collected": cost.to_json(), "flow_rates": flow,
                          "cost_by_item": item})
    e = data.experiment
    lines, extra = headline(c), {}
    if data.arms:
        from . import report_arms

        # One champion/challenger scenario: its strategies are the comparison, not the book alone.
        lines = report_arms.headline(data.arms) + (lines if len(c.scenarios) > 1 else [])
        extra["champion_challenger"] = report_arms.payload(data.arms)
    if data.offers:
        from . import report_offers

        lines += report_offers.headline(data.offers)
        extra["offers"] = report_offers.payload(data.offers)
    if data.sensitivity is not None:
        lines = [_tornado_headline(data.sensitivity), *lines]
        extra["sensitivity"] = {k: v for k, v in data.sensitivity.to_json().items() if k != "comparison"}
    return {"title": title, "experiment": {"id": e["id"], "kind": e["kind"], "status": e["status"],
                                           "reps": data.reps_used, "reps_planned": e["reps"], "seed": e["seed"],
                                           "code_version": e["code_version"], "created_at": e["created_at"],
                                           "spec": data.details["spec"]},
            "confidence": c.confidence, "champion": c.champion, "scenarios": scenarios,
            "differences": [d.to_json() for d in c.differences], "headline": lines, **extra}


def _tornado_headline(result) -> str:
    """The sensitivity in one sentence: the parameter whose ± step moves the KPI most."""
    from .plots import KPI_TITLES

    widest = result.swings[0]
    kpi = result.kpi
    return (f"Of {len(result.swings)} parameters, {widest.path} moves {KPI_TITLES.get(kpi, kpi)} most: "
            f"{fmt_estimate(kpi, widest.low, signed=True)} at {widest.low_value:g} and "
            f"{fmt_estimate(kpi, widest.high, signed=True)} at {widest.high_value:g} against the base "
            f"value {widest.base_value:g}.")


def _json_script(data: dict) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment: ``<``, ``>`` and ``&`` as escapes."""
    text = json.dumps(data, indent=1, allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ----------------------------------------------------------------------------- charts


def svg(fig) -> str:
    """A matplotlib figure as inline SVG: no XML prolog, no metadata, text drawn as paths."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def _figure(size):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def waterfall_chart(data: ReportData):
    """Of 100 accounts entering 1-30 days past due, how many flow on to each later bucket."""
    from .plots import _colors

    fig, ax = _figure((7.5, 3.8))
    flows = flow_rates(data)
    labels = [*BUCKETS[1:], "charged off"]
    x = np.arange(len(labels))
    width = 0.8 / max(1, len(flows))
    for k, (summary, flow, color) in enumerate(zip(data.comparison.scenarios, flows,
                                                    _colors(len(flows)), strict=True)):
        reach = 100 * np.cumprod([flow.get(name, 0.0) for name in flow])
        reach = np.pad(reach, (0, len(labels) - len(reach)))
        ax.bar(x + (k - (len(flows) - 1) / 2) * width, reach, width, color=color, label=summary.label)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("of 100 accounts at 1-30 dpd")
    ax.set_title("Flow-rate waterfall: accounts rolling on, product of monthly flow rates", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def cost_chart(data: ReportData):
    from .plots import _colors, _errors

    fig, ax = _figure((6, 3.4))
    costs = cost_per_dollar(data)
    labels = data.comparison.labels
    x = np.arange(len(labels))
    ax.bar(x, [100 * e.mean for e in costs], yerr=100 * _errors(costs), color=_colors(len(labels)), capsize=4)
    ax.set_xticks(x, labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("cost per 100 collected")
    ax.set_title("Cost to collect one unit of money (× 100)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return fig


def utilisation_chart(data: ReportData):
    """Agents' busy share of paid minutes, day by day, mean over replications."""
    from .plots import _colors

    fig, ax = _figure((7, 3.4))
    frame = data.series
    for summary, color in zip(data.comparison.scenarios, _colors(len(data.comparison.scenarios)), strict=True):
        mine = frame[frame["label"] == summary.label]
        busy = mine[mine["name"] == "agent_busy_minutes"].groupby("day")["value"].mean()
        paid = mine[mine["name"] == "agent_paid_minutes"].groupby("day")["value"].mean()
        share = (100 * busy / paid.where(paid > 0)).dropna()
        ax.plot(share.index + 1, share.values, color=color, label=summary.label, lw=1.3)
    ax.set_xlabel("day")
    ax.set_ylabel("busy, % of paid minutes")
    ax.set_title("Call agents' utilisation by day", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def charts(data: ReportData) -> dict[str, tuple[str, str]]:
    """The report's charts: id → (caption, inline SVG)."""
    from . import plots

    c = data.comparison
    out = {
        "waterfall": ("Flow-rate waterfall (mean monthly roll rates over replications)", waterfall_chart(data)),
        "recovery": ("Recovery curves: share of the initial balance collected by day, with the interval band",
                     plots.recovery_curves(c)),
        "cost": ("Cost to collect a unit of money, with its interval", cost_chart(data)),
        "complaints": ("Complaints per 1000 accounts and contacts refused by the rules",
                       plots.kpi_bars(c, ("complaints_per_1000", "compliance_refusals"))),
        "capacity": ("Capacity used: agent utilisation, right-party contacts, inbound service level",
                     plots.kpi_bars(c, ("agent_utilization", "right_party_contact_rate", "inbound_service_level"))),
        "utilisation": ("Agent utilisation by day", utilisation_chart(data)),
    }
    if data.arms:
        from .report_arms import chart

        out["strategies"] = ("Champion/challenger: each strategy's share of the accounts and of the agents' time, "
                             "and its cash per account", chart(data.arms))
    if data.sensitivity is not None:
        kpi = plots.KPI_TITLES.get(data.sensitivity.kpi, data.sensitivity.kpi)
        out["tornado"] = (f"Tornado: how far each parameter, moved down and up by its step, shifts {kpi} "
                          "against the base, widest on top, with intervals", plots.tornado(data.sensitivity))
    if c.kind == "sweep" and len(c.scenarios) > 1:
        out["tradeoff"] = ("Sweep: net recovery against complaints, each variant with its interval",
                           plots.sweep_tradeoff(SimpleNamespace(comparison=c)))
    return {key: (caption, svg(fig)) for key, (caption, fig) in out.items()}


# ----------------------------------------------------------------------------- HTML


def _table(header: list[str], rows: list[list[str]], classes: list[list[str]] | None = None) -> str:
    """An HTML table; ``header`` and ``rows`` are already escaped."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = []
    for r, row in enumerate(rows):
        cells = "".join(f'<td class="{classes[r][i]}">{cell}</td>' if classes and classes[r][i] else f"<td>{cell}</td>"
                        for i, cell in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _setup_section(data: ReportData) -> str:
    e, c = data.experiment, data.comparison
    rows = [[esc(s["label"]), esc(s["name"] or ""), f"<code>{esc(s['scenario_hash'])}</code>",
             f"{s['accounts'] or 0:,}", str(s["days"] or ""), esc(s["start_date"] or "")]
            for s in data.details["scenarios"]]
    reps = f"{data.reps_used}" + (f" of {e['reps']} planned (experiment {esc(e['status'])})"
                                  if data.reps_used != e["reps"] else "")
    facts = [("experiment", f"<code>{esc(e['id'])}</code> ({esc(e['kind'])})"), ("replications", reps),
             ("root seed", esc(json.dumps(e["seed"]))), ("code version", f"<code>{esc(e['code_version'])}</code>"),
             ("run on", esc(e["created_at"])), ("champion", esc(c.champion))]
    if data.details["spec"]:
        facts.append(("settings", f"<code>{esc(json.dumps(data.details['spec']))}</code>"))
    return ("<section id=\"setup\"><h2>Set-up</h2>"
            + _table(["scenario", "name", "scenario hash", "accounts", "days", "start date"], rows)
            + "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts) + "</table></section>")


def _kpi_section(data: ReportData) -> str:
    from .plots import KPI_TITLES

    c = data.comparison
    rows = [[esc(KPI_TITLES[k])] + [esc(fmt_estimate(k, s.kpis[k])) for s in c.scenarios] for k in TABLE_KPIS]
    note = (f"Mean [{c.confidence:.0%} interval] over {c.reps} replications (Student t)." if c.reps > 1
            else "One replication: means only, no intervals.")
    return ("<section id=\"kpis\"><h2>KPIs</h2>" + _table(["KPI", *[esc(label) for label in c.labels]], rows)
            + f"<p class=\"note\">{esc(note)}</p></section>")


def _differences_section(data: ReportData) -> str:
    from .plots import KPI_TITLES

    c = data.comparison
    if len(c.scenarios) < 2:
        return ("<section id=\"differences\"><h2>Differences against the champion</h2>"
                "<p class=\"note\">" + ("One book: the strategies' differences are in the champion/challenger "
                                       "section above." if data.arms else "A single strategy: no differences.")
                + "</p></section>")
    challengers = c.labels[1:]
    rows, classes = [], []
    for k in TABLE_KPIS:
        estimates = [c.difference(label, k).estimate for label in challengers]
        rows.append([esc(KPI_TITLES[k])] + [esc(fmt_estimate(k, e, signed=True)) for e in estimates])
        classes.append([""] + ["sig" if e.significant else "" for e in estimates])
    header = ["KPI", *[esc(f"{label} − {c.champion}") for label in challengers]]
    return ("<section id=\"differences\"><h2>Differences against the champion</h2>" + _table(header, rows, classes)
            + f"<p class=\"note\">Paired by replication; shaded: the {c.confidence:.0%} interval excludes zero.</p>"
            "</section>")


def _strategies_section(data: ReportData, images) -> list[str]:
    if not data.arms:
        return []
    from .report_arms import section

    return [section(data.arms, _chart("strategies", *images["strategies"]), esc, _table)]


def _swing_table(data: ReportData) -> str:
    """The tornado's numbers: each parameter's base value, its two moves and the KPI's change at each."""
    result = data.sensitivity
    kpi = result.kpi
    rows = [[esc(s.path), esc(f"{s.base_value:g}"), esc(f"{s.low_value:g}"),
             esc(fmt_estimate(kpi, s.low, signed=True)), esc(f"{s.high_value:g}"),
             esc(fmt_estimate(kpi, s.high, signed=True))] for s in result.swings]
    return _table(["parameter", "base", "− step", "change", "+ step", "change"], rows)


def _chart(key: str, caption: str, image: str) -> str:
    return f'<figure class="chart" id="chart-{key}">{image}<figcaption>{esc(caption)}</figcaption></figure>'


def _flow_table(data: ReportData) -> str:
    flows = flow_rates(data)
    names = list(flows[0]) if flows else []
    rows = [[esc(name)] + [f"{100 * f.get(name, 0.0):.1f} %" for f in flows] for name in names]
    return _table(["monthly flow", *[esc(label) for label in data.comparison.labels]], rows)


def _cost_table(data: ReportData) -> str:
    costs = cost_per_dollar(data)
    items = mean_nested(data, "cost_by_item")
    names = sorted({k for item in items for k in item})
    rows = [["cost per 100 collected"] + [esc(_per_hundred(e)) for e in costs]]
    rows += [[esc(f"cost: {name}")] + [f"{item.get(name, 0.0):,.0f}" for item in items] for name in names]
    return _table(["", *[esc(label) for label in data.comparison.labels]], rows)


def _per_hundred(e: Estimate) -> str:
    if not math.isfinite(e.mean):
        return "n/a"
    text = f"{100 * e.mean:.2f}"
    return text + (f" [{100 * e.ci_low:.2f}, {100 * e.ci_high:.2f}]" if math.isfinite(e.ci_low) else "")


def _scenario_details(data: ReportData) -> str:
    parts = []
    for s in data.details["scenarios"]:
        content = json.dumps(s["content"], indent=1, sort_keys=True, default=str)
        parts.append(f"<details><summary>{esc(s['label'])}: the scenario as run (hash "
                     f"<code>{esc(s['scenario_hash'])}</code>)</summary><pre>{esc(content)}</pre></details>")
    return "".join(parts)


def _assumptions_section(data: ReportData) -> str:
    assumptions = list(ASSUMPTIONS)
    if data.offers:
        from .report_offers import ASSUMPTION

        assumptions.append(ASSUMPTION)
    items = "".join(f"<li><strong>{esc(what)}</strong>: {esc(text)}. Source: {esc(where)}.</li>"
                    for what, text, where in assumptions)
    return ("<section id=\"assumptions\"><h2>Assumptions and their sources</h2><ul>" + items + "</ul>"
            + _scenario_details(data) + "</section>")


def render(data: ReportData, title: str) -> str:
    """The whole HTML document."""
    c = data.comparison
    images = charts(data)
    numbers = payload(data, title)
    question = (f"{len(c.scenarios)} strategies compared" if c.kind == "compare" else
                "champion/challenger in one book" if data.arms and len(c.scenarios) == 1 else
                f"a {c.kind} of {len(c.scenarios)} scenarios" if len(c.scenarios) > 1 else "a single strategy")
    sections = [
        f"<header id=\"question\"><h1>{esc(title)}</h1><p class=\"meta\">{esc(question)}: "
        f"{esc(', '.join(c.labels))}. Report written {dt.date.today().isoformat()} by repaylab.</p></header>",
        "<section id=\"headline\"><h2>Headline</h2><ul class=\"headline\">"
        + "".join(f"<li>{esc(line)}</li>" for line in numbers["headline"]) + "</ul></section>",
        _setup_section(data), *_strategies_section(data, images), _kpi_section(data), _differences_section(data),
        "<section id=\"waterfall\"><h2>Flow rates</h2>" + _chart("waterfall", *images["waterfall"])
        + _flow_table(data) + "</section>",
        "<section id=\"recovery\"><h2>Recovery curves</h2>" + _chart("recovery", *images["recovery"]) + "</section>",
        "<section id=\"cost\"><h2>Cost to collect</h2>" + _chart("cost", *images["cost"]) + _cost_table(data)
        + "</section>",
        "<section id=\"complaints\"><h2>Complaints</h2>" + _chart("complaints", *images["complaints"]) + "</section>",
        "<section id=\"capacity\"><h2>Capacity used</h2>" + _chart("capacity", *images["capacity"])
        + _chart("utilisation", *images["utilisation"]) + "</section>",
    ]
    if data.offers:
        from .report_offers import section

        sections.append(section(data.offers, esc, _table))
    if "tornado" in images:
        sections.append("<section id=\"tornado\"><h2>Which assumptions matter</h2>"
                        + _chart("tornado", *images["tornado"]) + _swing_table(data) + "</section>")
    if "tradeoff" in images:
        sections.append("<section id=\"tradeoff\"><h2>Sweep trade-off</h2>" + _chart("tradeoff", *images["tradeoff"])
                        + "</section>")
    sections.append(_assumptions_section(data))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(sections)
            + f"\n<script type=\"application/json\" id=\"repaylab-data\">{_json_script(numbers)}</script>"
            + "</body></html>\n")


def default_title(experiment: dict[str, Any]) -> str:
    """The question, when no title is given: the experiment's label, else its kind and its scenarios."""
    if experiment.get("label"):
        return experiment["label"]
    labels = experiment["scenarios"]
    if experiment["kind"] == "run":
        return f"A run of {labels[0] if labels else 'a scenario'}"
    if experiment["kind"] == "champion_challenger":
        return f"Champion/challenger in one book: {labels[0] if labels else 'a scenario'}"
    if experiment["kind"] == "compare" and len(labels) > 1:
        return f"Which strategy: {labels[0]} or {', '.join(labels[1:])}?"
    return f"{experiment['kind'].capitalize()} of {labels[0] if labels else 'a scenario'}"


def report_html(store, experiment_id: str, *, title: str | None = None) -> str:
    """The management report of a stored experiment (id or unique prefix), as HTML text."""
    data = load_report_data(store, experiment_id)
    return render(data, title if title else default_title(data.experiment))


__all__ = ["ReportData", "headline", "load_report_data", "payload", "render", "report_html"]
