"""Segments of the book for capacity allocation: days-past-due bucket × risk segment × balance band.

The allocation model decides per segment, not per account: every account of a
segment gets the same mix of treatments. A segment is the accounts that start
the planning period in one days-past-due bucket (1-30 … 151-180), one risk
segment of the scenario's portfolio and one balance band. Balance bands are
given by their lower edges (``(0, 1000, 5000)`` means 0-1000, 1000-5000 and
5000 and more); they are configurable because a ladder step can select
accounts by ``min_balance``.

An open book (``[arrivals]``, a warm-up) is planned for the book at the start
of the measured days and the accounts arriving over the horizon
(:mod:`optimizer.allocation.open_book`); an arrival belongs to the segment of
the bucket, risk segment and balance band it enters in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.domain import BUCKETS
from sim.errors import ScenarioError
from sim.portfolio import Portfolio, bucket_of, build_portfolio
from sim.scenario import Scenario
from sim.streams import RandomStreams

DEFAULT_BALANCE_BANDS = (0.0, 1000.0, 5000.0)
# First and last days past due of each bucket index (0 = current … 6 = 151-180).
BUCKET_DPD = ((0, 0), (1, 30), (31, 60), (61, 90), (91, 120), (121, 150), (151, 180))


def band_label(edges: Sequence[float], band: int) -> str:
    low = edges[band]
    if band + 1 < len(edges):
        return f"{low:g}-{edges[band + 1]:g}"
    return f"{low:g}+"


def check_bands(edges: Sequence[float], source: str = "<options>") -> tuple[float, ...]:
    """Balance band lower edges: start at 0, strictly increasing, finite."""
    values = tuple(float(e) for e in edges)
    if not values or values[0] != 0.0:
        raise ScenarioError(source, "balance_bands", "the first band edge must be 0")
    if any(not math.isfinite(e) or e < 0 for e in values):
        raise ScenarioError(source, "balance_bands", "band edges must be finite numbers ≥ 0")
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ScenarioError(source, "balance_bands", "band edges must be strictly increasing")
    if len(values) > 20:
        raise ScenarioError(source, "balance_bands", "at most 20 balance bands")
    return values


@dataclass(frozen=True)
class Segments:
    """The book cut into segments; arrays are indexed by segment.

    Attributes
    ----------
    names
        ``"bucket|risk|band"``, e.g. ``"31-60|high|1000-5000"``.
    bucket, risk, band
        Bucket index (1-6, as :func:`sim.portfolio.bucket_of`), risk segment
        index (into ``portfolio.segment_names``) and balance band index.
    accounts, balance
        Number of accounts and their total balance.
    member
        The segment of every account of the portfolio (-1 if not delinquent).
    entry_day
        An open book: the day of the horizon each row of the portfolio enters
        on (-1: in the book at the start; the arrivals follow the book, in
        order of entry). None: a closed book, every row there from day 0.
    """

    names: tuple[str, ...]
    bucket: np.ndarray
    risk: np.ndarray
    band: np.ndarray
    accounts: np.ndarray
    balance: np.ndarray
    member: np.ndarray
    band_edges: tuple[float, ...]
    portfolio: Portfolio
    entry_day: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.names)

    def risk_name(self, k: int) -> str:
        return self.portfolio.segment_names[int(self.risk[k])]

    def bucket_name(self, k: int) -> str:
        return BUCKETS[int(self.bucket[k])]


def band_of(balance: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    return (np.searchsorted(np.asarray(edges), balance, side="right") - 1).astype(np.int16)


def segment_portfolio(portfolio: Portfolio, band_edges: Sequence[float] = DEFAULT_BALANCE_BANDS,
                      entry_day: np.ndarray | None = None) -> Segments:
    """Group a portfolio's delinquent, open accounts into non-empty segments."""
    edges = check_bands(band_edges)
    bucket = bucket_of(portfolio.days_past_due).astype(np.int64)
    band = band_of(portfolio.balance, edges).astype(np.int64)
    risk = portfolio.segment.astype(np.int64)
    n_risk, n_band = len(portfolio.segment_names), len(edges)
    key = (bucket * n_risk + risk) * n_band + band
    open_ = (bucket >= 1) & (portfolio.balance > 0)
    keys, inverse = np.unique(key[open_], return_inverse=True)
    member = np.full(len(portfolio), -1, dtype=np.int64)
    member[open_] = inverse
    seg_bucket = keys // (n_risk * n_band)
    seg_risk = (keys // n_band) % n_risk
    seg_band = keys % n_band
    names = tuple(
        f"{BUCKETS[b]}|{portfolio.segment_names[r]}|{band_label(edges, k)}"
        for b, r, k in zip(seg_bucket.tolist(), seg_risk.tolist(), seg_band.tolist(), strict=True)
    )
    counts = np.bincount(inverse, minlength=keys.size).astype(np.int64)
    totals = np.bincount(inverse, weights=portfolio.balance[open_], minlength=keys.size)
    return Segments(names=names, bucket=seg_bucket, risk=seg_risk, band=seg_band, accounts=counts,
                    balance=totals, member=member, band_edges=edges, portfolio=portfolio,
                    entry_day=entry_day)


def build_segments(scenario: Scenario, rng=None, *, band_edges: Sequence[float] = DEFAULT_BALANCE_BANDS,
                   portfolio: Portfolio | None = None, days: int | None = None) -> Segments:
    """The scenario's accounts grouped into segments.

    The portfolio is the one the simulator would build from ``rng`` (default:
    the scenario's seed), drawn from the same ``portfolio`` stream, so the
    plan is made for exactly the accounts a run with that seed sees. An open
    book: the book that seed's warm-up leaves at the start of the measured
    days and the arrivals of ``days`` days (default: the scenario's)
    (:func:`optimizer.allocation.open_book.planning_book`).
    """
    from .open_book import is_open, planning_book

    entry_day = None
    if portfolio is None and is_open(scenario):
        book = planning_book(scenario, days or scenario.simulation.days, rng)
        portfolio, entry_day = book.portfolio, book.entry_day
    elif portfolio is None:
        streams = RandomStreams(scenario.simulation.seed if rng is None else rng)
        portfolio = build_portfolio(scenario, streams["portfolio"])
    segments = segment_portfolio(portfolio, band_edges, entry_day)
    if len(segments) == 0:
        raise ScenarioError(scenario.source, "portfolio", "no delinquent accounts to allocate")
    return segments
