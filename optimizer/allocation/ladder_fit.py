"""Writing the LP's plan as a strategy: at most 64 ladder steps, and what fitting it costs.

A plan whose treatments are many and scattered over small cells (noisy
simulated values scatter them) needs more ladder steps than a strategy
allows. :func:`fit_ladder` solves it again until a strategy holds it, by
dropping the treatments the fewest accounts get (:func:`dropped_to_fit`) or
by keying neighbouring cells to one treatment mix (:func:`keyed_coarser`),
and keeps the one whose ladder the engine rates higher on the whole book;
:func:`ladder_fit` records what that gave up against the unrestricted plan,
for the report and ``--json``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .plan import Plan, largest_remainder_rows
from .refit import Refit

if TYPE_CHECKING:
    from .search import _Pass, _Search


def fit_ladder(search: _Search, step: _Pass, ahead=None) -> tuple[_Pass, str]:
    """The pass with its plan's worth as a ladder, re-solved until a strategy can hold the plan.

    A plan whose treatments are too many and too scattered needs more than
    the 64 steps a strategy allows (noisy simulated values scatter them).
    Two ways to fit it, each an LP within capacity and budget: drop, one at
    a time, the treatment the fewest accounts get (:func:`dropped_to_fit`),
    or key the cells more coarsely, neighbouring cells sharing one
    treatment mix (:func:`keyed_coarser`, which always ends in a plan a
    strategy holds). Of the two, the one whose ladder the valuation's
    whole-book run rates higher is kept, as the passes are chosen (both run in
    one batch): the LP objective of a fit can mislead, since the fit's ladder
    is not the LP's plan — on card_baseline at 600 accounts (6 sampled per
    segment, 42 days) keying kept 78,824 more LP objective than dropping
    (2,021,376 against 1,942,552) while its ladder ran 6,986 lower
    (1,831,496 against 1,838,482); on baseline at 5,000 accounts with the
    four other US ladders as candidates the two agree (keyed 40,107,654
    against dropped 40,035,906 on the whole book). On hawkes_baseline at 800
    accounts (3 sampled per segment, eight balance bands, seed 4) dropping
    took 37 treatments and lost 78,119 of the LP's 2,657,115, keying by three
    bands lost 15,651 (and its ladder ran 32,890 higher); on the scenario's
    own seed no set of treatments fitted.
    Returns the pass and a note of what was done and what it cost against
    the LP's unrestricted plan (also :attr:`Plan.ladder_fit`); raises
    ValueError if no plan can be written. ``ahead``: :meth:`_Search.plan_worth`'s,
    for the plan that fits.
    """
    try:
        step.plan.to_strategy(search.scenario)
    except ValueError as err:
        error = str(err)
    else:
        step.worth = search.plan_worth(step.plan, ahead)
        return step, ""
    reason = error.split(";")[0]
    fits = [fitted for fitted in (dropped_to_fit(search, step), keyed_coarser(search, step)) if fitted is not None]
    if not fits:
        raise ValueError(error)
    if len(fits) == 1:
        worths = [search.plan_worth(fits[0][0].plan, ahead)]
    else:
        worths = search.plans_worth([f[0].plan for f in fits])
    ladder_worths = {("keyed" if fit.get("keyed") else "dropped"): worth for (_, _, fit), worth in zip(fits, worths, strict=True)}
    # The ladder rated higher on the whole book; on a tie the fewer treatments dropped (the first).
    kept = max(range(len(fits)), key=lambda j: (worths[j], -j))
    fitted, how, fit = fits[kept]
    fitted.plan = replace(fitted.plan, ladder_fit=ladder_fit(step.plan, fitted.plan, error, ladder_worths=ladder_worths,
                                                             **fit))
    fitted.worth = worths[kept]
    return fitted, (f"the LP's plan needed more than the 64 steps a strategy allows ({reason}): {how}; "
                    f"{fit_loss_note(fitted.plan.ladder_fit)}")

def dropped_to_fit(search: _Search, step: _Pass) -> tuple[_Pass, str, dict] | None:
    """The pass solved again without the treatment the fewest accounts get (never ``none`` or the
    scenario's own ladder), one at a time, until a strategy can hold the plan; None if nothing is left
    to drop first. Returns the pass, what was done and :func:`ladder_fit`'s arguments."""
    allowed = np.ones(step.plan.shares.shape, dtype=bool) if step.model.allowed is None else step.model.allowed
    keep = {search.own, *(k for k, t in enumerate(search.treatments) if t.name == "none")}
    dropped: list[str] = []
    # The drops' LPs are cut from the pass's matrix and solved as they are (optimizer.allocation.refit);
    # only the plan that fits is built and solved as a model of its own.
    refit = Refit(step.model, search.time_limit) if search.solver == "highs" and step.model.matrix is not None \
        else None
    fitted, plan = step, step.plan
    while True:
        counts = plan.counts.sum(axis=0)
        used = [t for t in np.flatnonzero(counts).tolist() if t not in keep]
        if not used:
            return None
        drop = min(used, key=lambda t: (counts[t], t))
        allowed = allowed.copy()
        allowed[:, drop] = False
        dropped.append(search.treatments[drop].name)
        shares = refit.without(drop) if refit is not None else None
        if shares is None:
            fitted = search.solved_without(step, allowed)
            if not fitted.plan.ok:
                return None
            plan = fitted.plan
        else:
            plan = replace(step.plan, shares=shares, counts=largest_remainder_rows(shares, search.segments.accounts))
        try:
            plan.to_strategy(search.scenario)
        except ValueError:
            continue
        if plan is not fitted.plan:  # a drop's plan from the refit: a model of its own once it fits
            fitted = search.solved_without(step, allowed)
            if not fitted.plan.ok:
                return None
            try:
                fitted.plan.to_strategy(search.scenario)
            except ValueError:
                plan = fitted.plan
                continue
        how = f"solved again without {', '.join(dropped)} (the treatments fewest accounts got)"
        return fitted, how, {"dropped": dropped}

def keyed_coarser(search: _Search, step: _Pass) -> tuple[_Pass, str, dict] | None:
    """The pass solved again with its cells keyed more coarsely, until a strategy can hold the plan.

    Neighbouring cells are made to share one treatment mix (the LP's
    ``tie_*`` rows, :func:`optimizer.allocation.lp.tie_rows`), so each
    group of cells becomes one ladder cell. Greedily, one coarsening at a
    time, the one whose LP keeps the highest objective: a balance band
    edge removed in every bucket and risk segment, or the risk segments
    merged; the buckets are merged only when nothing else is left (one
    mix for the whole book: one treatment's steps, which a strategy holds,
    since every treatment is a single channel or a written ladder). On
    hawkes_baseline at 800 accounts with eight balance bands, none and the
    own ladder alone still needed 66 steps (a checkerboard of the two that
    noisy values of tiny segments scatter), while keying by three bands
    kept 19 treatments and lost 0.4 % of the LP's objective. Every LP keeps
    the capacity and budget rows. None if no coarser LP is feasible.
    """
    n_risk, n_band = len(search.segments.portfolio.segment_names), len(search.segments.band_edges)

    def key(bands: tuple[int, ...], risks: bool, buckets: bool) -> np.ndarray:
        """Cell group numbers (7, risks, bands): bucket (or one), risk segment (or one), band group."""
        bucket = np.arange(7)[:, None, None] * (not buckets)
        risk = np.arange(n_risk)[None, :, None] * (not risks)
        return (bucket * n_risk + risk) * n_band + np.asarray(bands)[None, None, :]

    def solved(coarse: tuple) -> _Pass:
        return search.solved_without(step, step.model.allowed, key(*coarse))

    coarse: tuple = (tuple(range(n_band)), False, False)
    while True:
        bands, risks, buckets = coarse
        options = [(tuple(bands[e - 1] if b == bands[e] else b for b in bands), risks, buckets)
                   for e in range(1, n_band) if bands[e] != bands[e - 1]]
        options += [(bands, True, buckets)] if not risks and n_risk > 1 else []
        if not options and not buckets:
            options = [(bands, risks, True)]
        tried = [(option, p) for option, p in ((option, solved(option)) for option in options) if p.plan.ok]
        if not tried:
            return None
        # The highest objective; among equals the first (an earlier band edge, then the risk merge).
        coarse, fitted = max(tried, key=lambda item: item[1].plan.objective)
        try:
            fitted.plan.to_strategy(search.scenario)
        except ValueError:
            continue
        break
    bands, risks, buckets = coarse
    edges = search.segments.band_edges
    kept = [f"{edges[e]:g}" for e in range(n_band) if e == 0 or bands[e] != bands[e - 1]]
    keyed = (f"balance bands {','.join(kept)}" + (", risk segments merged" if risks else "")
             + (", one treatment mix for every bucket" if buckets else ""))
    return fitted, f"solved again with cells keyed more coarsely ({keyed})", {"keyed": keyed}


def ladder_fit(unrestricted: Plan, fitted: Plan, error: str, *, dropped: list[str] | None = None,
               keyed: str | None = None, ladder_worths: dict[str, float] | None = None) -> dict:
    """What fitting the LP's plan into a strategy's 64 ladder steps did and cost, for the report and ``--json``.

    ``loss`` is the LP objective given up against the LP's plan solved with
    every treatment and every cell its own (both on the same valuation): the
    price of writing the plan as a ladder, as the LP values it.
    ``ladder_worths``: each way's ladder (``dropped``, ``keyed``) as the
    whole-book run rated it; the higher was kept.
    """
    return {"reason": error.split(";")[0], "dropped": list(dropped or []), "keyed": keyed or "",
            "lp_objective_unrestricted": unrestricted.objective, "lp_objective": fitted.objective,
            "loss": unrestricted.objective - fitted.objective, "ladder_worths": dict(ladder_worths or {})}


def fit_loss_note(fit: dict) -> str:
    """One clause of the plan's note: the LP objective the fit gave up."""
    base = fit["lp_objective_unrestricted"]
    share = fit["loss"] / abs(base) if base else 0.0
    worths = fit.get("ladder_worths") or {}
    rated = (" (the ladder rated higher on the whole book: "
             + ", ".join(f"{way} {worth:,.0f}" for way, worth in worths.items()) + ")") if len(worths) > 1 else ""
    return (f"LP objective {fit['lp_objective']:,.0f} against {base:,.0f} unrestricted "
            f"(loss {fit['loss']:,.0f}, {share:.1%}){rated}")
