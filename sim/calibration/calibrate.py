"""Calibration: a lender's history in, the fitted behaviour with its intervals and fit out.

:func:`calibrate` reads the three files against the base scenario's terms,
rebuilds the balance paths through the engine's book, fits the chosen model
by maximum likelihood and tests the fit. The result prints as ``--json``
(:meth:`Calibration.as_dict`) and becomes a scenario that ``extends`` the
base with the fitted ``[behavior]`` (:meth:`Calibration.fitted_scenario_text`).

Models are fitted by the functions in :data:`FITTERS`: ``cgw`` (:mod:`.cgw`)
and ``card`` (:mod:`.card`, over the statements rebuilt by :mod:`.card_paths`).

An open book: accounts whose ``entered_on`` falls inside the window are
observed from that day. They are put after the book at the start, in order of
entry, and the replay admits them on their day as the engine admits its
arrivals (:class:`sim.engine.arrivals.Arrivals`); their number gives the
inflow, ``[arrivals]`` (:mod:`.arrival_volume`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from ..engine.arrivals import Arrivals
from ..errors import InputError
from ..io import write_atomic
from ..portfolio import Portfolio, read_portfolio_csv
from ..scenario import Scenario, load_scenario
from . import card, cgw, contact_fit
from .arrival_volume import arrival_rates
from .balance_paths import BalancePaths, rebuild
from .card_paths import CardPaths, rebuild_card
from .contact_fit_reach import right_party_rates
from .estimates import ParameterEstimate
from .goodness import (
    GoodnessOfFit,
    aic,
    constant_hazard_log_likelihood,
    exponential_ks,
    uniform_ks,
)
from .history_files import Contacts, Receipts, Window, read_contacts, read_payments
from .treatment_lifts import ContactTiming, base_lifts, contact_lifts, contact_rows

CMDLINE = "command line"
CONTACT_PREFIX = "contact."  # a fitted parameter of [contact] (the right-party multipliers by bucket)
ARRIVALS = "arrivals."  # the inflow's parameters are named by their --set path: arrivals.per_month


@dataclass(frozen=True)
class History:
    """The lender's files, read and checked against the base scenario and the window."""

    scenario: Scenario  # the base, with the window as its start date and days
    portfolio: object
    receipts: Receipts
    contacts: Contacts | None
    window: Window
    arrivals: Arrivals  # accounts entering during the window (none: a closed book), admitted by the replay


@dataclass(frozen=True)
class Calibration:
    """What a fit found, with the settings that produced it."""

    model: str
    accounts: int
    payments: int
    log_likelihood: float
    parameters: dict[str, ParameterEstimate]
    goodness_of_fit: GoodnessOfFit
    base_scenario: str
    window: Window
    increments: np.ndarray = field(repr=False)  # time-rescaled gaps (the QQ plot's points)
    shares: np.ndarray = field(repr=False)
    share_low: float | None = None  # the amounts' uniform law starts here (cgw: r_min; card: partial_min)
    base_behavior: dict | None = field(default=None, repr=False)  # the base's [behavior], for list-valued keys
    arrivals_key: str | None = None  # the [arrivals] key --out writes: the base's, or per_month

    def as_dict(self) -> dict:
        return {"model": self.model, "accounts": self.accounts, "payments": self.payments,
                "log_likelihood": _finite(self.log_likelihood),
                "parameters": {name: p.as_dict() for name, p in self.parameters.items()},
                "goodness_of_fit": self.goodness_of_fit.as_dict()}

    def fitted_values(self) -> dict[str, float]:
        """The identified estimates as ``[behavior]`` keys (the others stay as the base has them); a
        ``[contact]`` parameter keeps its ``contact.`` prefix; the inflow, ``arrivals.*``, is :meth:`fitted_arrivals`."""
        return {name: p.estimate for name, p in self.parameters.items()
                if p.identified and p.estimate is not None and not name.startswith(ARRIVALS)}

    def _section_values(self, section: str) -> dict[str, float]:
        prefix = f"{section}."
        fitted = self.fitted_values()
        if section == "behavior":
            return {name: v for name, v in fitted.items() if not name.startswith(CONTACT_PREFIX)}
        return {name[len(prefix):]: v for name, v in fitted.items() if name.startswith(prefix)}

    def fitted_scenario_text(self, out_path: str | Path) -> str:
        """TOML that ``extends`` the base (by a path relative to ``out_path``) with the fitted ``[behavior]``."""
        base = os.path.relpath(os.path.abspath(self.base_scenario), os.path.dirname(os.path.abspath(out_path)))
        lines = [f"# Fitted by python -m sim calibrate: {self.accounts} accounts, {self.payments} receipts,",
                 f"# {self.window.days} days from {self.window.start}. Parameters the data could not",
                 "# identify are left as the base scenario has them.",
                 f"extends = {_toml_string(base)}", "", "[behavior]", f"model = {_toml_string(self.model)}"]
        lines += _behavior_lines(self._section_values("behavior"), self.base_behavior or {})
        contact = self._section_values("contact")
        if contact:
            lines += ["", "[contact]", *_behavior_lines(contact, {})]
        missing = [name for name, p in self.parameters.items() if not p.identified and not name.startswith(ARRIVALS)]
        if missing:
            lines.append(f"# not identified: {', '.join(missing)}")
        inflow = self.fitted_arrivals()
        if inflow:
            lines += ["", "[arrivals]", *(f"{key} = {value!r}" for key, value in inflow.items())]
        return "\n".join(lines) + "\n"

    def fitted_arrivals(self) -> dict[str, float]:
        """The fitted ``[arrivals]`` rate under the base's key: written when the base has ``[arrivals]`` or
        accounts entered during the window (a closed book stays closed)."""
        p = self.parameters.get(f"{ARRIVALS}{self.arrivals_key}")
        if p is None or not p.identified or (self.arrivals_key == "per_month" and not p.estimate):
            return {}
        return {self.arrivals_key: p.estimate}

    def write_fitted_scenario(self, out_path: str | Path, base: Scenario) -> None:
        """Check the fitted values against the schema, then write the scenario atomically."""
        overrides = {(name if name.startswith(CONTACT_PREFIX) else f"behavior.{name}"): value
                     for name, value in self.fitted_values().items()}
        overrides |= {f"arrivals.{key}": value for key, value in self.fitted_arrivals().items()}
        overrides["behavior.model"] = self.model
        base.with_overrides(overrides)  # a value the schema refuses is an error before anything is written
        write_atomic(out_path, self.fitted_scenario_text(out_path), option="--out")


def _behavior_lines(values: dict[str, float], base: dict) -> list[str]:
    """``key = value`` lines; a fitted element of a list (``payment_choice.minimum.2``) writes the whole list,
    the base's values where nothing was fitted (a dotted TOML key would make a table of it)."""
    lines, lists = [], {}
    for name, value in values.items():
        parts = name.split(".")
        parent = base
        for part in parts[:-1]:
            parent = parent.get(part, {}) if isinstance(parent, dict) else {}
        if isinstance(parent, list) and parts[-1].isdigit():
            lists.setdefault(tuple(parts[:-1]), list(parent))[int(parts[-1])] = value
            continue
        lines.append(f"{_toml_key(parts)} = {value!r}")
    lines += [f"{_toml_key(list(key))} = {[float(v) for v in row]!r}" for key, row in lists.items()]
    return lines


def _toml_key(parts: list[str]) -> str:
    bare = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    return ".".join(p if p and set(p) <= bare else _toml_string(p) for p in parts)


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def read_history(scenario_path, portfolio_path, payments_path, contacts_path, *, start: dt.date, days: int,
                 model: str, time_zone: str = "UTC") -> History:
    """Read and check the files; the base scenario gives the terms, the window its start and length."""
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(CMDLINE, "--time-zone", f"unknown time zone {time_zone!r}; give an IANA name such as "
                                                 "Europe/Paris or UTC") from None
    # The replay has no warm-up: the window is what the files show.
    scenario = load_scenario(scenario_path, {"simulation.start_date": start, "simulation.days": days,
                                             "simulation.warmup_days": 0, "behavior.model": model})
    portfolio, arrivals = _in_order_of_entry(read_portfolio_csv(Path(portfolio_path), scenario, open_book=True),
                                             days)
    window = Window(start=start, days=days, time_zone=time_zone)
    receipts = read_payments(payments_path, portfolio.account_id, window)
    _check_after_entry(receipts.source, receipts.time, receipts.position, receipts.line, portfolio)
    contacts = read_contacts(contacts_path, portfolio.account_id, window) if contacts_path else None
    if contacts is not None:
        _check_after_entry(str(contacts_path), contacts.time, contacts.position, contacts.line, portfolio)
    return History(scenario=scenario, portfolio=portfolio, receipts=receipts, contacts=contacts, window=window,
                   arrivals=arrivals)


def _in_order_of_entry(portfolio: Portfolio, days: int) -> tuple[Portfolio, Arrivals]:
    """The book at the start first, then the accounts entering during the window in order of entry (the
    rows an engine's arrivals take), and which of them enter on which day."""
    entered = np.zeros(len(portfolio), np.int64) if portfolio.entered_day is None \
        else np.maximum(portfolio.entered_day, 0)
    order = np.argsort(entered, kind="stable")
    if (order != np.arange(order.size)).any():
        portfolio = dataclasses.replace(portfolio, **{
            f.name: getattr(portfolio, f.name)[order] for f in dataclasses.fields(portfolio)
            if isinstance(getattr(portfolio, f.name), np.ndarray)})
        entered = entered[order]
    first = int(np.count_nonzero(entered == 0))
    return portfolio, Arrivals(first, entered[first:].astype(np.int32), days)


def _check_after_entry(source: str, time: np.ndarray, position: np.ndarray, line: np.ndarray | None,
                       portfolio: Portfolio) -> None:
    """A receipt or contact before its account entered the book is an error naming its line."""
    if portfolio.entered_day is None:
        return
    early = time < portfolio.entered_day[position]
    if early.any():
        k = int(np.flatnonzero(early)[0])
        where = f"line {line[k]}: timestamp" if line is not None else "timestamp"
        raise InputError(source, where,
                         f"comes before its account {portfolio.account_id[position[k]]} entered the book "
                         f"(entered_on, day {portfolio.entered_day[position[k]]} of the window)")


def cgw_parts(history: History) -> tuple[BalancePaths, cgw.CgwData, cgw.CgwFit]:
    """The balance paths, the likelihood's data and the maximum-likelihood fit of ``model = "cgw"``.

    With a contact log the channels' lifts are fitted with the timing (:mod:`.contact_fit`): the fit's
    parameters then hold ``lift.KEY`` too, and the data the contacts' jumps at the fitted lifts.
    """
    paths = rebuild(history.scenario, history.portfolio, history.receipts, history.contacts, history.arrivals)
    if history.contacts is None:
        data = cgw.prepare(history.receipts, paths, contact_lifts(None, history.scenario.behavior))
        return paths, data, cgw.fit(data)
    joint = contact_fit.fit_cgw(contact_fit.prepare(history.receipts, paths, history.contacts,
                                                    history.scenario.behavior, hardening(history.scenario),
                                                    ContactTiming.of(history.scenario, history.portfolio)))
    joint.timing.parameters.update(joint.parameters)
    return paths, joint.data, joint.timing


def hardening(scenario: Scenario) -> float:
    """``[contact] hardening``: how the engine hardens a lift's fatigue (0 without ``[contact]``)."""
    return scenario.contact.hardening if scenario.contact is not None else 0.0


def contact_parameters(history: History, bucket_by_day: np.ndarray | None = None) -> dict[str, ParameterEstimate]:
    """With a contact log: the right-party rate by hour (and bucket) it identifies (:mod:`.contact_fit_reach`)."""
    if history.contacts is None:
        return {}
    return right_party_rates(history.scenario, history.portfolio, history.contacts, bucket_by_day)


def fit_cgw(history: History, base_scenario: str) -> Calibration:
    _, data, result = cgw_parts(history)
    fit = cgw_calibration(history, base_scenario, data, result)
    fit.parameters.update(contact_parameters(history))
    return fit


def cgw_calibration(history: History, base_scenario: str, data: cgw.CgwData, result: cgw.CgwFit) -> Calibration:
    """The fit with its goodness of fit, as the command line reports it."""
    shares = data.measured_shares()[0]
    r_min = result.parameters["r_min"].estimate
    increments = cgw.rescaled_increments(result.theta, data) if result.converged else np.zeros(0)
    ks, p = exponential_ks(increments)
    share_ks, share_p = uniform_ks(shares, r_min)
    exposure = float((data.end - data.start).sum())
    dated_counts = data.day_count[data.dated & (data.day_first == np.arange(data.time.size))]
    constant = constant_hazard_log_likelihood(data.repayments, exposure, dated_counts, shares, r_min)
    fitted_lifts = sum(p.identified for name, p in result.parameters.items() if name in contact_fit.LIFT_NAMES)
    goodness = GoodnessOfFit(ks_statistic=ks, ks_pvalue=p, aic=aic(result.log_likelihood,
                                                                    len(cgw.PARAMETERS) + fitted_lifts),
                             aic_constant_hazard=aic(constant, 2), share_ks_statistic=share_ks,
                             share_ks_pvalue=share_p)
    return Calibration(model="cgw", accounts=data.accounts, payments=len(history.receipts),
                       log_likelihood=result.log_likelihood, parameters={**result.parameters, **inflow(history)},
                       goodness_of_fit=goodness, base_scenario=str(base_scenario), window=history.window,
                       increments=increments, shares=shares, arrivals_key=_inflow_key(history),
                       base_behavior=history.scenario.content().get("behavior", {}))


def _inflow_key(history: History) -> str:
    """The ``[arrivals]`` key of the base (``per_month`` when it has none)."""
    section = history.scenario.arrivals
    return "per_month" if section is None or section.per_month is not None else "per_1000_per_month"


def inflow(history: History) -> dict[str, ParameterEstimate]:
    """The open book's inflow as ``arrivals.KEY`` parameters: reported when accounts entered during the window
    or the base has ``[arrivals]`` (a closed cohort's parameters are the behaviour's only)."""
    if history.arrivals.entry_day.size == 0 and history.scenario.arrivals is None:
        return {}
    rates = arrival_rates(history.portfolio.entered_day, history.window.days, _inflow_key(history))
    return {f"{ARRIVALS}{key}": p for key, p in rates.items()}


def card_parts(history: History) -> tuple[CardPaths, card.CardData, card.TimingFit]:
    """The statements replayed, the timing likelihood's data and its maximum-likelihood fit (``model = "card"``)."""
    scenario, portfolio = history.scenario, history.portfolio
    behavior, names = scenario.behavior, portfolio.segment_names
    paths = rebuild_card(scenario, portfolio, history.receipts, history.contacts, history.arrivals)
    held = np.array([behavior.segment_multiplier.get(s, 1.0) for s in names])
    reference = names.index("medium") if "medium" in names else 0
    if history.contacts is None:
        data = card.prepare_card(history.receipts, paths, contact_lifts(None, behavior), portfolio.segment,
                                 held, reference)
        return paths, data, card.fit_timing(data, names)
    # With a contact log the lifts are parameters of the timing likelihood, as under cgw (:mod:`.contact_fit`):
    # each contact a jump whose size is its row's design times the lifts.
    traced, rows = contact_rows(history.contacts, behavior, hardening(scenario),
                                ContactTiming.of(scenario, portfolio))
    data = card.prepare_card(history.receipts, paths, traced, portfolio.segment, held, reference,
                             lift_rows=rows, held_lifts=base_lifts(behavior))
    timing = card.fit_timing(data, names)
    lifts = card.lift_values(timing.theta, data) if timing.converged else data.lift_held
    return paths, card.at_lifts(data, lifts), timing


def fit_card(history: History, base_scenario: str) -> Calibration:
    """``model = "card"``: timing by bucket and segment, payment-choice shares, re-default (:mod:`.card`)."""
    return card_calibration(history, base_scenario, *card_parts(history))


def card_calibration(history: History, base_scenario: str, paths: CardPaths, data: card.CardData,
                     timing: card.TimingFit) -> Calibration:
    """The card fit with its payment choice, re-default and goodness of fit, as the command line reports it."""
    scenario, portfolio = history.scenario, history.portfolio
    behavior, names = scenario.behavior, portfolio.segment_names
    parameters = {**timing.parameters, **card.choice_shares(paths.matches, paths.bucket),
                  **card.redefault_rates(paths, names, history.contacts is not None),
                  **contact_parameters(history, paths.bucket_by_day)}
    # The choice's multipliers are taken as 1 by the share fit (see sim.calibration.card): not fitted.
    for name in [*(f"cure_multiplier.{s}" for s in names), "contact_cure_multiplier", "promise_cure_multiplier"]:
        parameters[name] = ParameterEstimate.unidentified()
    parameters |= inflow(history)
    increments = card.rescaled_increments(timing.theta, data, paths, portfolio.segment) if timing.converged \
        else np.zeros(0)
    ks, p = exponential_ks(increments)
    fractions = card.amount_law_sample(paths, history.receipts)
    share_ks, share_p = uniform_ks(fractions, behavior.partial_min)
    ev = data.events
    dated_counts = ev.day_count[ev.dated & (ev.day_first == np.arange(ev.time.size))]
    constant = constant_hazard_log_likelihood(ev.repayments, float(data.exposure.sum()), dated_counts,
                                              np.zeros(0), None)
    fitted_lifts = sum(p.identified for name, p in timing.parameters.items() if name in card.LIFT_NAMES)
    goodness = GoodnessOfFit(ks_statistic=ks, ks_pvalue=p, aic=aic(timing.log_likelihood,
                                                                    data.free.size + 3 + fitted_lifts),
                             aic_constant_hazard=aic(constant, 1), share_ks_statistic=share_ks,
                             share_ks_pvalue=share_p)
    return Calibration(model="card", accounts=int(np.unique(paths.episode_account).size),
                       payments=len(history.receipts), log_likelihood=timing.log_likelihood, parameters=parameters,
                       goodness_of_fit=goodness, base_scenario=str(base_scenario), window=history.window,
                       increments=increments, shares=fractions, share_low=behavior.partial_min,
                       base_behavior=scenario.content().get("behavior", {}), arrivals_key=_inflow_key(history))


FITTERS: dict[str, Callable[[History, str], Calibration]] = {"cgw": fit_cgw, "card": fit_card}


def calibrate(scenario_path, portfolio_path, payments_path, contacts_path=None, *, start: dt.date, days: int,
              model: str = "cgw", time_zone: str = "UTC") -> Calibration:
    """Fit ``model``'s behaviour to the history in the files (see the module's docstring)."""
    if model not in FITTERS:
        raise InputError(CMDLINE, "--model", f"unknown model {model!r}; calibration fits: {', '.join(FITTERS)}")
    history = read_history(scenario_path, portfolio_path, payments_path, contacts_path, start=start, days=days,
                           model=model, time_zone=time_zone)
    return FITTERS[model](history, str(scenario_path))
