"""Who may be contacted, when, and under whose rules: exclusions, requests to stop, local time, placement.

Built only when a run needs it (a ``[contact]`` section, rules that switch at
placement, or a book with ``exclusion``/``time_zone``/``state`` columns);
without it the engine runs the original single rule set in the book's time.

* Excluded accounts (:mod:`sim.consumers`) are taken out of every ladder step.
* Requests to stop: each SMS or e-mail may end in an opt-out of its channel,
  each message or conversation in a cease-communication request, with chances
  that rise with contact pressure (:func:`sim.domain.contact_pressure`). An
  opt-out takes the account out of that channel's steps, a cease request out
  of every step but legal, from the moment it is made (calls later the same
  day are blocked).
* Each account is under one of :meth:`~sim.compliance.ContactRules.rule_sets`
  (agency or lender, Massachusetts or not): its caps, quiet period and window,
  the window shifted to the book's time by the consumer's offset.
* Placement: every morning the accounts that reached ``placement_dpd`` pass
  to the agency's rules, for good (``ConsumerFacts.placed_on``); so does an
  account the ladder's agency step places after charge-off (:mod:`.lifecycle`),
  from its placement day.

Imports :mod:`sim.domain`, the rules, the consumers and the book.
"""

from __future__ import annotations

import numpy as np

from ..compliance import ContactRules, rule_set_of
from ..consumers import (
    NOT_PLACED,
    REACTIONS_KEY,
    ConsumerFacts,
    child_generator,
    child_seed,
    consumer_facts,
)
from ..domain import CEASE_LOGGED, MINUTES_PER_DAY, NO_OUTCOME, OPT_OUT_LOGGED, contact_pressure
from ..portfolio import Portfolio
from ..scenario import Scenario
from ..streams import AccountUniformArrays, AccountUniforms, UniformPool
from .book import Book
from .context import Context
from .rows import kept

NO_CAP = 10**9
CEASE_TABLE = 256  # recent-contact counts whose chance of a cease request is computed once (more: each time)
CONVERSATION_REACTIONS_KEY = REACTIONS_KEY + 1
PAIRED_MESSAGE_KEY, PAIRED_CONVERSATION_KEY = REACTIONS_KEY + 2, REACTIONS_KEY + 3


def _cap(value: int | None) -> int:
    return value if value is not None else NO_CAP


def needs_standing(scenario: Scenario, portfolio: Portfolio, rules: ContactRules) -> bool:
    """Whether a run needs rules by account: ``[contact]``, a switch at placement, or the book's own columns."""
    return (scenario.contact is not None or rules.lender is not None
            or any(col is not None for col in (portfolio.exclusion, portfolio.time_zone, portfolio.state)))


class Standing:
    """Each account's standing for contact, kept as arrays; the rule sets' limits as small arrays by set."""

    def __init__(self, ctx: Context, book: Book, facts: ConsumerFacts, rules: ContactRules,
                 seed: np.random.SeedSequence):
        n = book.n
        self.ctx = ctx
        self.book = book
        self.facts = facts
        self.contact = ctx.scenario.contact
        self.hardening = self.contact.hardening if self.contact is not None else 0.0
        sets = rules.rule_sets()
        self.placement_dpd = rules.placement_dpd
        self.window_start = np.array([r.window_start for r in sets], dtype=np.int64)
        self.window_end = np.array([r.window_end for r in sets], dtype=np.int64)
        self.quiet_days = np.array([r.quiet_days_after_conversation for r in sets], dtype=np.int64)
        self.cap_attempts_7d = np.array([_cap(r.max_call_attempts_7d) for r in sets], dtype=np.int64)
        self.cap_conversations_7d = np.array([_cap(r.max_conversations_7d) for r in sets], dtype=np.int64)
        self.cap_attempts_day = np.array([_cap(r.max_attempts_per_day) for r in sets], dtype=np.int64)
        self.cap_connects_day = np.array([_cap(r.max_connected_calls_per_day) for r in sets], dtype=np.int64)
        self.cap_visits_30d = [r.max_field_visits_30d for r in sets]
        self.rule_set = rule_set_of(facts.massachusetts, rules.lender is not None, np.zeros(n, dtype=bool))
        self.offset = facts.offset.astype(np.int64)
        self.excluded = facts.excluded
        self.ceased = np.zeros(n, dtype=bool)
        self.opted_out = {"sms": np.zeros(n, dtype=bool), "email": np.zeros(n, dtype=bool)}
        # By channel (but legal), the accounts a step may not act on: excluded, ceased or opted out of it, kept
        # up to date by cease() and opt_out(), so the ladder's check reads one array instead of three.
        self._blocked: dict[str, np.ndarray] = {}
        # Cease requests and opt-outs recorded so far (every change to what a step may act on during a run: the
        # exclusions are fixed), so that a delivery later in the day checks again only when one came in.
        self.changes = 0
        self.rng = child_generator(seed, REACTIONS_KEY)
        self.pool = UniformPool(child_generator(seed, CONVERSATION_REACTIONS_KEY))
        # Paired mode (common random numbers account by account): each account's k-th message and k-th
        # conversation draw their own numbered uniforms, whatever other accounts did.
        self.paired = ctx.draws is not None
        if self.paired:
            keys = ctx.draws.keys
            self.message_draws = AccountUniformArrays(child_seed(seed, PAIRED_MESSAGE_KEY), n, 2, keys=keys)
            self.cease_draws = AccountUniforms(child_seed(seed, PAIRED_CONVERSATION_KEY), n, 1, keys=keys)
        self.opt_outs = 0
        self.cease_requests = 0
        self._rates: dict[str, np.ndarray] = {}  # by channel: a message's chance of an opt-out, of a cease request
        # A conversation's chance of a cease request by the borrower's recent contacts, computed once per
        # count by the same formula (so the same numbers): every conversation reads it.
        cease = self.contact.cease_request if self.contact is not None else 0.0
        self.cease_by_recent = [cease * contact_pressure(ctx.behavior.fatigue, n, self.hardening)
                                for n in range(CEASE_TABLE)] if cease else None
        self.blocked_today: set[int] = set()  # the contact counters' set of accounts not to call again today
        self._scanned = False  # the first morning's placement looks at every row (see morning)

    @classmethod
    def attach(cls, ctx: Context, book: Book, portfolio: Portfolio, rules: ContactRules,
               seed: np.random.SeedSequence, parts) -> Standing:
        """Build the run's standing and hand it to the parts that check it (each has a ``standing``); the
        contact log carries the consumers' facts for the audit, the tally the KPIs."""
        facts = consumer_facts(ctx.scenario, portfolio, seed, None if ctx.draws is None else ctx.draws.keys)
        standing = cls(ctx, book, facts, rules, seed)
        for part in parts:
            part.standing = standing
            if hasattr(part, "blocked_today"):
                standing.blocked_today = part.blocked_today  # the counters' set, cleared in place each day
        ctx.log.facts = facts
        ctx.tally.extra_kpis = standing.kpis
        return standing

    # ------------------------------------------------------------------------- the morning

    def morning(self, day: int, live: np.ndarray | None = None) -> None:
        """Accounts that reached ``placement_dpd`` pass to the agency's rules today, for good.

        Days past due move only on the live rows (ageing, rolling back, entering, re-defaulting), and an
        account ages past ``placement_dpd`` while active: after the first morning's scan of every row, the
        candidates are the live rows and the accounts charged off last evening (aged and closed at once).
        ``live``: :meth:`Book.active_rows`, when the caller has them.
        """
        if self.placement_dpd is None:
            return
        book = self.book
        if self._scanned:
            rows = book.active_rows() if live is None else live
            if book.charged_last.size:
                rows = np.concatenate([rows, book.charged_last])
        else:
            rows = np.arange(book.n)
            self._scanned = True
        newly = kept(rows, (book.dpd[rows] >= self.placement_dpd) & (self.facts.placed_on[rows] == NOT_PLACED))
        if newly.size:
            self.place(np.sort(newly), day)

    def place(self, idx: np.ndarray, day: int) -> None:
        """Accounts placed with the agency today (at ``placement_dpd`` or by the ladder's agency step): its
        rules from today on, for good; an account placed before keeps its first day."""
        facts = self.facts
        idx = kept(idx, facts.placed_on[idx] == NOT_PLACED)
        facts.placed_on[idx] = day
        self.rule_set[idx] = self.rule_set[idx] % 2  # the agency's set, Massachusetts kept

    def allowed(self, channel: str) -> np.ndarray:
        """Accounts a step of ``channel`` may act on: not excluded, not ceased (legal aside), not opted out."""
        if channel == "legal":
            return ~self.excluded  # a cease request leaves the collector its remedies (FDCPA §805(c)(3))
        allowed = ~(self.excluded | self.ceased)
        opted = self.opted_out.get(channel)
        return allowed if opted is None else allowed & ~opted

    def allowed_at(self, channel: str, idx: np.ndarray) -> np.ndarray:
        """:meth:`allowed` at the accounts ``idx`` only (the ladder's candidates, not the whole book)."""
        if channel == "legal":
            return ~self.excluded[idx]
        blocked = self._blocked.get(channel)
        if blocked is None:
            blocked = self._blocked[channel] = ~self.allowed(channel)
        return ~blocked[idx]

    def cease(self, idx) -> None:
        """Accounts ``idx`` (positions, or one) asked to cease communication: no step but legal acts on them."""
        self.ceased[idx] = True
        self.changes += 1
        for blocked in self._blocked.values():
            blocked[idx] = True

    def opt_out(self, channel: str, idx) -> None:
        """Accounts ``idx`` opted out of ``channel`` (SMS or e-mail)."""
        self.opted_out[channel][idx] = True
        self.changes += 1
        if channel in self._blocked:
            self._blocked[channel][idx] = True

    def local_window(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each account's contact window in the book's minutes of the day (its local window, shifted)."""
        sets = self.rule_set[idx]
        shift = self.offset[idx]
        return self.window_start[sets] - shift, self.window_end[sets] - shift

    # ------------------------------------------------------------------------- messages

    def local_send(self, idx: np.ndarray, channel: str, send_minute: int, day: int):
        """A batch sent at ``send_minute`` in each consumer's local time: the accounts it may reach and the
        book's minute of each; refused when the local time is outside its window or falls on another book day."""
        book_minute = send_minute - self.offset[idx]
        ok = (book_minute >= 0) & (book_minute < MINUTES_PER_DAY)
        if channel != "letter":
            sets = self.rule_set[idx]
            ok &= (self.window_start[sets] <= send_minute) & (send_minute < self.window_end[sets])
        refused = int(idx.size - ok.sum())
        if refused:
            self.ctx.tally.refusals[day] += refused
        return idx[ok], day * MINUTES_PER_DAY + book_minute[ok]

    def react_to_messages(self, channel: str, idx: np.ndarray, recent: np.ndarray,
                          pressure: np.ndarray | None = None) -> np.ndarray | None:
        """Who answers this batch with an opt-out of its channel or a cease request (the log's outcomes).
        ``pressure``: :func:`contact_pressure` of ``recent``, when the caller has worked it out already."""
        contact = self.contact
        if contact is None or idx.size == 0:
            return None
        if pressure is None:
            pressure = contact_pressure(self.ctx.behavior.fatigue, recent, self.hardening)
        u = self.message_draws.draw(idx) if self.paired else self.rng.random((idx.size, 2))
        # Each message's two chances side by side (the opt-out's, the cease request's: the same products,
        # capped at 1), read against its two uniforms at once: most batches bring neither, and then there is
        # nothing more to do (no outcomes: the log fills the batch's with NO_OUTCOME, as it would this array).
        rates = self._rates.get(channel)
        if rates is None:
            rates = self._rates[channel] = np.array([contact.opt_out.get(channel, 0.0), contact.cease_after_message])
        chance = pressure[:, None] * rates
        np.minimum(chance, 1.0, out=chance)
        hits = u < chance
        if not hits.any():
            return None
        outcome = np.full(idx.size, NO_OUTCOME, dtype=np.int8)
        opt_out = hits[:, 0]
        opt_outs = int(opt_out.sum())
        if opt_outs and channel in self.opted_out:
            self.opt_out(channel, idx[opt_out])
            outcome[opt_out] = OPT_OUT_LOGGED
            self.opt_outs += opt_outs
        cease = hits[:, 1]
        ceases = int(cease.sum())
        if ceases:
            self.cease(idx[cease])
            self.blocked_today.update(idx[cease].tolist())  # no more calls today either
            outcome[cease] = CEASE_LOGGED  # wins: it forbids more than the opt-out
            self.cease_requests += ceases
        return outcome

    # ------------------------------------------------------------------------- conversations

    def asks_to_cease(self, i: int, recent: int) -> bool:
        """Whether a conversation ends in a cease-communication request (and then records it)."""
        table = self.cease_by_recent
        if table is None:
            return False
        p = table[recent] if recent < CEASE_TABLE else (
            self.contact.cease_request * contact_pressure(self.ctx.behavior.fatigue, recent, self.hardening))
        u = self.cease_draws.draw(i)[0] if self.paired else next(self.pool.uniforms)
        if u < p:
            self.cease(i)
            self.cease_requests += 1
            return True
        return False

    def kpis(self) -> dict[str, int]:
        """What a manager reads about standing: accounts excluded, opt-outs and cease requests."""
        return {"accounts_excluded": int(self.excluded.sum()), "opt_outs": self.opt_outs,
                "cease_requests": self.cease_requests}
