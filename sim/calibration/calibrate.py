"""Calibration: a lender's history in, the fitted behaviour with its intervals and fit out.

:func:`calibrate` reads the three files against the base scenario's terms,
rebuilds the balance paths through the engine's book, fits the chosen model
by maximum likelihood and tests the fit. The result prints as ``--json``
(:meth:`Calibration.as_dict`) and becomes a scenario that ``extends`` the
base with the fitted ``[behavior]`` (:meth:`Calibration.fitted_scenario_text`).

Models are fitted by the functions in :data:`FITTERS`: ``cgw`` (:mod:`.cgw`)
and ``card`` (:mod:`.card`, over the statements rebuilt by :mod:`.card_paths`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from ..errors import InputError
from ..io import write_atomic
from ..portfolio import read_portfolio_csv
from ..scenario import Scenario, load_scenario
from . import card, cgw, contact_fit
from .balance_paths import BalancePaths, rebuild
from .card_paths import rebuild_card
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
from .treatment_lifts import contact_lifts

CMDLINE = "command line"
CONTACT_PREFIX = "contact."  # a fitted parameter of [contact] (the right-party multipliers by bucket)


@dataclass(frozen=True)
class History:
    """The lender's files, read and checked against the base scenario and the window."""

    scenario: Scenario  # the base, with the window as its start date and days
    portfolio: object
    receipts: Receipts
    contacts: Contacts | None
    window: Window


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

    def as_dict(self) -> dict:
        return {"model": self.model, "accounts": self.accounts, "payments": self.payments,
                "log_likelihood": _finite(self.log_likelihood),
                "parameters": {name: p.as_dict() for name, p in self.parameters.items()},
                "goodness_of_fit": self.goodness_of_fit.as_dict()}

    def fitted_values(self) -> dict[str, float]:
        """The identified estimates as ``[behavior]`` keys (the others stay as the base has them); a
        ``[contact]`` parameter keeps its ``contact.`` prefix."""
        return {name: p.estimate for name, p in self.parameters.items() if p.identified and p.estimate is not None}

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
        missing = [name for name, p in self.parameters.items() if not p.identified]
        if missing:
            lines.append(f"# not identified: {', '.join(missing)}")
        return "\n".join(lines) + "\n"

    def write_fitted_scenario(self, out_path: str | Path, base: Scenario) -> None:
        """Check the fitted values against the schema, then write the scenario atomically."""
        overrides = {(name if name.startswith(CONTACT_PREFIX) else f"behavior.{name}"): value
                     for name, value in self.fitted_values().items()}
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
    scenario = load_scenario(scenario_path, {"simulation.start_date": start, "simulation.days": days,
                                             "behavior.model": model})
    portfolio = read_portfolio_csv(Path(portfolio_path), scenario)
    window = Window(start=start, days=days, time_zone=time_zone)
    receipts = read_payments(payments_path, portfolio.account_id, window)
    contacts = read_contacts(contacts_path, portfolio.account_id, window) if contacts_path else None
    return History(scenario=scenario, portfolio=portfolio, receipts=receipts, contacts=contacts, window=window)


def cgw_parts(history: History) -> tuple[BalancePaths, cgw.CgwData, cgw.CgwFit]:
    """The balance paths, the likelihood's data and the maximum-likelihood fit of ``model = "cgw"``.

    With a contact log the channels' lifts are fitted with the timing (:mod:`.contact_fit`): the fit's
    parameters then hold ``lift.KEY`` too, and the data the contacts' jumps at the fitted lifts.
    """
    paths = rebuild(history.scenario, history.portfolio, history.receipts, history.contacts)
    if history.contacts is None:
        data = cgw.prepare(history.receipts, paths, contact_lifts(None, history.scenario.behavior))
        return paths, data, cgw.fit(data)
    joint = contact_fit.fit_cgw(contact_fit.prepare(history.receipts, paths, history.contacts,
                                                    history.scenario.behavior, hardening(history.scenario)))
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
                       log_likelihood=result.log_likelihood, parameters=result.parameters,
                       goodness_of_fit=goodness, base_scenario=str(base_scenario), window=history.window,
                       increments=increments, shares=shares,
                       base_behavior=history.scenario.content().get("behavior", {}))


def fit_card(history: History, base_scenario: str) -> Calibration:
    """``model = "card"``: timing by bucket and segment, payment-choice shares, re-default (:mod:`.card`)."""
    scenario, portfolio = history.scenario, history.portfolio
    behavior, names = scenario.behavior, portfolio.segment_names
    paths = rebuild_card(scenario, portfolio, history.receipts, history.contacts)
    held = np.array([behavior.segment_multiplier.get(s, 1.0) for s in names])
    reference = names.index("medium") if "medium" in names else 0
    lifts = contact_lifts(history.contacts, behavior, hardening=hardening(scenario))
    data = card.prepare_card(history.receipts, paths, lifts, portfolio.segment,
                             held, reference)
    timing = card.fit_timing(data, names)
    parameters = {**timing.parameters, **card.choice_shares(paths.matches, paths.bucket),
                  **card.redefault_rates(paths, names, history.contacts is not None),
                  **contact_parameters(history, paths.bucket_by_day)}
    # The choice's multipliers are taken as 1 by the share fit (see sim.calibration.card): not fitted.
    for name in [*(f"cure_multiplier.{s}" for s in names), "contact_cure_multiplier", "promise_cure_multiplier"]:
        parameters[name] = ParameterEstimate.unidentified()
    increments = card.rescaled_increments(timing.theta, data, paths, portfolio.segment) if timing.converged \
        else np.zeros(0)
    ks, p = exponential_ks(increments)
    fractions = card.amount_law_sample(paths, history.receipts)
    share_ks, share_p = uniform_ks(fractions, behavior.partial_min)
    ev = data.events
    dated_counts = ev.day_count[ev.dated & (ev.day_first == np.arange(ev.time.size))]
    constant = constant_hazard_log_likelihood(ev.repayments, float(data.exposure.sum()), dated_counts,
                                              np.zeros(0), None)
    goodness = GoodnessOfFit(ks_statistic=ks, ks_pvalue=p, aic=aic(timing.log_likelihood, data.free.size + 3),
                             aic_constant_hazard=aic(constant, 1), share_ks_statistic=share_ks,
                             share_ks_pvalue=share_p)
    return Calibration(model="card", accounts=int(np.unique(paths.episode_account).size),
                       payments=len(history.receipts), log_likelihood=timing.log_likelihood, parameters=parameters,
                       goodness_of_fit=goodness, base_scenario=str(base_scenario), window=history.window,
                       increments=increments, shares=fractions, share_low=behavior.partial_min,
                       base_behavior=scenario.content().get("behavior", {}))


FITTERS: dict[str, Callable[[History, str], Calibration]] = {"cgw": fit_cgw, "card": fit_card}


def calibrate(scenario_path, portfolio_path, payments_path, contacts_path=None, *, start: dt.date, days: int,
              model: str = "cgw", time_zone: str = "UTC") -> Calibration:
    """Fit ``model``'s behaviour to the history in the files (see the module's docstring)."""
    if model not in FITTERS:
        raise InputError(CMDLINE, "--model", f"unknown model {model!r}; calibration fits: {', '.join(FITTERS)}")
    history = read_history(scenario_path, portfolio_path, payments_path, contacts_path, start=start, days=days,
                           model=model, time_zone=time_zone)
    return FITTERS[model](history, str(scenario_path))
