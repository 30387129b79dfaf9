"""Each consumer's standing for contact: excluded from collection or not, where they live, placed or not.

* **Exclusions** — accounts that may not be collected at all: a bankruptcy
  stay (11 U.S.C. §362), a deceased borrower, a servicemember under the SCRA
  (a house policy of many lenders), a consumer represented by an attorney
  (FDCPA §805(a)(2), 12 CFR 1006.6(b)(2)), a dispute pending validation
  (FDCPA §809(b)). Never contacted; counted and audited.
* **Time zones** — the contact window is the consumer's local time
  (12 CFR 1006.6(b)(1)(i)); agents work in the book's time. Each account
  carries its offset from the book's time in minutes, taken at the start
  date and fixed for the run: most US zones change to summer time together,
  but Arizona and Hawaii do not, so a run across a change of clocks is an
  hour off for them (a bound the audit shares, since it reads the same
  offsets). No-contact days are the book's dates.
* **States** — Massachusetts' rules (940 CMR 7.04, 209 CMR 18) follow the
  resident: an account with ``state = MA`` gets them whatever the preset.
* **Placement** — the day an account reached ``[compliance] placement_dpd``,
  or the ladder's agency step placed it, and passed from the lender's rules
  to the agency's (kept by the engine).

The facts come from the portfolio's columns (``exclusion``, ``time_zone``,
``state``) or, for a generated book, are drawn from ``[contact]``'s shares on
a stream of their own (so the other streams, and a run without
``[contact]``, are untouched). The contact log carries them, so that the
audit checks each contact against the consumer it reached.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .portfolio import Portfolio
from .scenario import EXCLUSIONS, Scenario, time_zone
from .streams import keyed_accounts

# Child streams of the run's SeedSequence that no other part uses (sim.streams' paired draws use 1000+).
FACTS_KEY = 2_000
REACTIONS_KEY = 2_001  # and 2_002: conversations' cease requests; 2_003-2_004: the same, numbered by account
NOT_PLACED = 10**9  # placed_on of an account still with the lender (or with no switch of rules)


@dataclass
class ConsumerFacts:
    """Per account (by position): exclusion, offset from the book's time, Massachusetts, placement day."""

    account_id: np.ndarray
    exclusion: np.ndarray  # int8: 0 none, k = EXCLUSIONS[k - 1]
    offset: np.ndarray  # int32 minutes: local time = book time + offset
    massachusetts: np.ndarray  # bool
    placed_on: np.ndarray  # int32 day the agency's rules began (NOT_PLACED: never)
    # Each consumer's time zone and state as codes (0: the book's zone / unknown; k: names[k - 1]), when the
    # run has them (the book's columns or [contact]'s draws): what --portfolio-out writes back.
    time_zone: np.ndarray | None = None
    time_zone_names: tuple[str, ...] = ()
    state: np.ndarray | None = None
    state_names: tuple[str, ...] = ()

    @property
    def excluded(self) -> np.ndarray:
        return self.exclusion > 0

    def excluded_by_kind(self) -> dict[str, int]:
        counts = np.bincount(self.exclusion, minlength=len(EXCLUSIONS) + 1)
        return {kind: int(counts[k + 1]) for k, kind in enumerate(EXCLUSIONS)}

    def positions(self, account_ids: np.ndarray) -> np.ndarray:
        """Positions of these account ids (the contact log names accounts by id)."""
        order = np.argsort(self.account_id, kind="stable")
        return order[np.searchsorted(self.account_id, account_ids, sorter=order)]


def child_seed(seed: np.random.SeedSequence, key: int) -> np.random.SeedSequence:
    """A child of the run's SeedSequence that no other part uses (``key`` ≥ 2000)."""
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, key))


def child_generator(seed: np.random.SeedSequence, key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(child_seed(seed, key)))


def consumer_facts(scenario: Scenario, portfolio: Portfolio, seed: np.random.SeedSequence,
                   keys: np.ndarray | None = None) -> ConsumerFacts:
    """The book's consumer facts: the portfolio's columns where it has them, else ``[contact]``'s shares
    (``keys``: the account whose drawn facts each row takes — copies of one account live where it lives)."""
    n = len(portfolio)
    contact = scenario.contact
    rng = child_generator(seed, FACTS_KEY)

    def codes(shares: list[float]) -> np.ndarray:
        """One code a row, drawn by account (with ``keys``, by key: copies share their account's)."""
        if keys is None:
            return _draw_codes(rng, n, shares)
        return _draw_codes(rng, keyed_accounts(n, keys), shares)[keys]

    exclusion = portfolio.exclusion
    if exclusion is None:
        exclusion = codes([contact.exclusions.get(k, 0.0) for k in EXCLUSIONS] if contact else [])
    zones = portfolio.time_zone_names
    zone_code = portfolio.time_zone
    if zone_code is None and contact is not None and contact.time_zones:
        zones = tuple(contact.time_zones)
        zone_code = codes(list(contact.time_zones.values()))
    offset = np.zeros(n, dtype=np.int32)
    if zone_code is not None:
        book_zone = contact.book_time_zone if contact is not None else "America/New_York"
        minutes = [0] + [zone_offset(z, book_zone, scenario.simulation.start_date) for z in zones]
        offset = np.asarray(minutes, dtype=np.int32)[zone_code]
    state, states = portfolio.state, portfolio.state_names
    if state is None and contact is not None and contact.states:
        state, states = codes(list(contact.states.values())), tuple(contact.states)
    ma = np.zeros(n, dtype=bool)
    if state is not None and "MA" in states:
        ma = state == states.index("MA") + 1
    return ConsumerFacts(account_id=portfolio.account_id, exclusion=np.asarray(exclusion, dtype=np.int8),
                         offset=offset, massachusetts=ma, placed_on=np.full(n, NOT_PLACED, dtype=np.int32),
                         time_zone=zone_code, time_zone_names=tuple(zones) if zone_code is not None else (),
                         state=state, state_names=states if state is not None else ())


def _draw_codes(rng: np.random.Generator, n: int, shares: list[float]) -> np.ndarray:
    """0 for the rest of the book, k for the k-th share; one uniform per account (none when no shares)."""
    if not shares or sum(shares) == 0:
        return np.zeros(n, dtype=np.int16)
    edges = np.cumsum(shares)
    u = rng.random(n)
    return np.where(u < edges[-1], np.searchsorted(edges, u, side="right") + 1, 0).astype(np.int16)


def zone_offset(zone: str, book_zone: str, on: dt.date) -> int:
    """Minutes local time in ``zone`` is ahead of ``book_zone`` at noon on ``on`` (negative: west)."""
    noon = dt.datetime.combine(on, dt.time(12))
    local = noon.replace(tzinfo=time_zone(zone)).utcoffset()
    book = noon.replace(tzinfo=time_zone(book_zone)).utcoffset()
    return int((local - book).total_seconds() // 60)
