"""Queues of agents: the analytic models of the inbound line.

Borrowers calling back after a reminder queue for the same agents. With
Poisson arrivals and exponential handling times the line is an M/M/n queue,
whose probability of waiting is the **Erlang C** formula; if callers also hang
up after an exponential patience it is the M/M/n+M queue, **Erlang A**
(Palm 1943; Garnett, Mandelbaum & Reiman 2002). These are the analytic anchors
for the agent side of the simulator, and what :mod:`optimizer.staffing.requirements` uses to
say how many agents an hour needs.

Units, everywhere in this module and in :mod:`optimizer.staffing.requirements`:

* ``arrival_rate`` is in **calls per hour**;
* every duration — ``mean_handle``, ``patience``, ``answer_within`` and the
  waits returned — is in **seconds**.

Only the offered load ``arrival_rate * mean_handle / 3600`` (Erlangs) and the
ratios of the durations matter; :func:`erlang_b` and :func:`erlang_c_from_load`
take the load directly and have no units.

Assumptions of both models: arrivals form a Poisson process with a constant
rate (so use them hour by hour, treating each hour as steady state); handling
times are exponential; agents are identical and serve first come, first served;
nobody is blocked (the queue is unlimited). Erlang C also assumes nobody hangs
up; Erlang A assumes each caller hangs up after an exponential patience if not
answered by then.
"""

from __future__ import annotations

import math
import operator
from dataclasses import asdict, dataclass

from scipy.special import gammainc, gammaincc, gammaln

SECONDS_PER_HOUR = 3600.0
# Above this many agents Erlang B is taken in closed form (constant time), below
# it by the exact recursion (cheap there, and the tests' exact values hold).
RECURSION_AGENTS = 500

__all__ = [
    "QueueMetrics",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_from_load",
    "erlang_c_metrics",
    "erlang_c_service_level",
    "erlang_c_wait",
    "offered_load",
]


# ----------------------------------------------------------------------------- checks


def _rate(value: float, name: str) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
    return value


def _duration(value: float, name: str, *, allow_inf: bool = False) -> float:
    value = float(value)
    if math.isnan(value) or value <= 0 or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
    return value


def _agents(value: int) -> int:
    try:
        agents = operator.index(value)
    except TypeError:
        raise ValueError(f"agents must be a whole number, got {value!r}") from None
    if agents < 0:
        raise ValueError(f"agents must be ≥ 0, got {agents}")
    return agents


def offered_load(arrival_rate: float, mean_handle: float) -> float:
    """Offered load in Erlangs: calls per hour × mean handle seconds / 3600."""
    return (
        _rate(arrival_rate, "arrival_rate")
        * _duration(mean_handle, "mean_handle")
        / SECONDS_PER_HOUR
    )


# ----------------------------------------------------------------------------- Erlang B and C


def erlang_b(load: float, agents: int) -> float:
    """Erlang B blocking probability for ``load`` Erlangs offered to ``agents`` servers.

    Up to :data:`RECURSION_AGENTS` agents by the recursion ``B(0) = 1``,
    ``B(k) = A B(k-1) / (k + A B(k-1))`` (exact to rounding, no factorials, no
    powers). Beyond that the recursion's cost would grow with the line's size,
    so ``B`` is taken in constant time as the Poisson ratio
    ``P(N = n) / P(N ≤ n)`` with ``N ~ Poisson(A)`` (see :func:`_erlang_b_large`).
    """
    load = _rate(load, "load")
    agents = _agents(agents)
    if agents > RECURSION_AGENTS and load > 0:
        return _erlang_b_large(load, agents)
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def _erlang_b_large(load: float, agents: int) -> float:
    """Erlang B for many agents in O(1): P(N = n) / P(N ≤ n), N ~ Poisson(load).

    The numerator is taken in log space (``n log A − A − log n!``), the
    denominator is scipy's regularised upper incomplete gamma Q(n + 1, A). When
    the load is far above the agents Q underflows; then the ratio is summed as
    the series 1/B = Σ_j n!/((n−j)! A^j), whose terms shrink at least as fast
    as (n/A)^j, so few terms are needed exactly when Q underflows.
    """
    log_pmf = agents * math.log(load) - load - float(gammaln(agents + 1.0))
    cdf = float(gammaincc(agents + 1.0, load))
    if cdf > 1e-250:
        return min(1.0, math.exp(log_pmf) / cdf)
    total, term, j = 1.0, 1.0, 0
    while term > 1e-17 * total and j < agents:
        term *= (agents - j) / load
        total += term
        j += 1
    return 1.0 / total


def erlang_c_from_load(load: float, agents: int) -> float:
    """Erlang C probability of waiting for ``load`` Erlangs and ``agents`` agents.

    ``C = n B / (n - A (1 - B))`` with ``B`` the Erlang B probability. An
    unstable queue (``load >= agents``) waits for sure: returns 1.0.
    """
    load = _rate(load, "load")
    agents = _agents(agents)
    if load == 0:
        return 0.0
    if load >= agents:
        return 1.0
    blocking = erlang_b(load, agents)
    return agents * blocking / (agents - load * (1.0 - blocking))


def erlang_c(arrival_rate: float, mean_handle: float, agents: int) -> float:
    """Probability that a caller waits (Erlang C, M/M/n).

    Parameters
    ----------
    arrival_rate : calls per hour.
    mean_handle : mean handle time in seconds.
    agents : agents on the phones.

    Returns
    -------
    P(wait > 0). 1.0 when the queue is unstable (offered load ≥ agents).
    """
    return erlang_c_from_load(offered_load(arrival_rate, mean_handle), agents)


def erlang_c_wait(arrival_rate: float, mean_handle: float, agents: int) -> float:
    """Mean wait in queue over all callers (the ASA), in seconds, under Erlang C.

    ``C / (n μ - λ)``; ``math.inf`` when the queue is unstable.
    """
    load = offered_load(arrival_rate, mean_handle)
    agents = _agents(agents)
    if load == 0:
        return 0.0
    if load >= agents:
        return math.inf
    return erlang_c_from_load(load, agents) * mean_handle / (agents - load)


def erlang_c_service_level(
    arrival_rate: float, mean_handle: float, agents: int, answer_within: float
) -> float:
    """Service level under Erlang C: P(wait ≤ t) = 1 − C·exp(−(nμ − λ)·t).

    ``answer_within`` (t) and ``mean_handle`` in seconds. 0.0 when the queue is
    unstable (waits grow without bound).
    """
    load = offered_load(arrival_rate, mean_handle)
    agents = _agents(agents)
    answer_within = _rate(answer_within, "answer_within")
    if load == 0:
        return 1.0
    if load >= agents:
        return 0.0
    prob_wait = erlang_c_from_load(load, agents)
    return 1.0 - prob_wait * math.exp(-(agents - load) * answer_within / mean_handle)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class QueueMetrics:
    """How the line performs with a given number of agents, and the settings used.

    ``service_level`` is the share of offered calls answered within
    ``answer_within`` seconds; calls that hang up count as not answered.
    ``mean_wait`` is the mean time in queue over all offered calls, in seconds
    (including those who hang up, until they do). ``p_abandon`` is 0 under
    Erlang C.
    """

    model: str
    arrival_rate: float
    mean_handle: float
    agents: int
    answer_within: float
    patience: float
    load: float
    p_wait: float
    p_abandon: float
    mean_wait: float
    service_level: float

    @property
    def occupancy(self) -> float:
        """Share of agent time spent handling calls (answered calls only)."""
        if self.agents == 0:
            return 0.0
        return min(1.0, self.load * (1.0 - self.p_abandon) / self.agents)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["occupancy"] = self.occupancy
        return data


def erlang_c_metrics(
    arrival_rate: float, mean_handle: float, agents: int, answer_within: float = 20.0
) -> QueueMetrics:
    """All Erlang C measures at once (see :class:`QueueMetrics`)."""
    return QueueMetrics(
        model="erlang_c",
        arrival_rate=float(arrival_rate),
        mean_handle=float(mean_handle),
        agents=_agents(agents),
        answer_within=float(answer_within),
        patience=math.inf,
        load=offered_load(arrival_rate, mean_handle),
        p_wait=erlang_c(arrival_rate, mean_handle, agents),
        p_abandon=0.0,
        mean_wait=erlang_c_wait(arrival_rate, mean_handle, agents),
        service_level=erlang_c_service_level(arrival_rate, mean_handle, agents, answer_within),
    )


# ----------------------------------------------------------------------------- Erlang A


def _log_a_function(a: float, y: float) -> float:
    """log A(a, y) with A(a, y) = a e^y y^(-a) γ(a, y) = 1 + Σ_j y^j / Π_{k≤j} (a + k).

    This is the function of Garnett, Mandelbaum & Reiman (2002); γ is the lower
    incomplete gamma function. Uses scipy's regularised incomplete gamma in log
    space, or the series when that underflows (y much smaller than a).
    """
    if y == 0:
        return 0.0
    regularised = float(gammainc(a, y))
    if regularised > 1e-250:
        return y - a * math.log(y) + float(gammaln(a + 1.0)) + math.log(regularised)
    total, term, j = 1.0, 1.0, 0
    while term > 1e-17 * total:
        j += 1
        term *= y / (a + j)
        total += term
    return math.log(total)


def _gamma_cdf(a: float, z: float) -> float:
    return float(gammainc(a, z)) if z > 0 else 0.0


def erlang_a(
    arrival_rate: float,
    mean_handle: float,
    agents: int,
    patience: float,
    answer_within: float = 20.0,
) -> QueueMetrics:
    """Erlang A (M/M/n+M): the line when callers hang up after an exponential patience.

    Parameters
    ----------
    arrival_rate : calls per hour.
    mean_handle : mean handle time, seconds.
    agents : agents on the phones (any number ≥ 0: the queue is always stable).
    patience : mean patience, seconds (``math.inf`` gives Erlang C).
    answer_within : service-level threshold t, seconds.

    Returns
    -------
    QueueMetrics with ``p_wait`` = P(W > 0), ``p_abandon`` = P(hang up),
    ``mean_wait`` = E[time in queue] = P(hang up) × patience (Little's law on
    the queue), ``service_level`` = P(answered within t).

    Notes
    -----
    With a = nμ/θ, y = λ/θ, ρ = λ/(nμ), E the Erlang B probability for load
    λ/μ and A(a, y) as in :func:`_log_a_function` (Garnett, Mandelbaum &
    Reiman 2002; Mandelbaum & Zeltyn 2007)::

        π_n          = E / (1 + (A − 1) E)        (all agents busy, queue empty)
        P(W > 0)     = A π_n
        P(Ab | W>0)  = 1/(ρ A) + 1 − 1/ρ
        P(V > s)     = π_n A(a, y e^{−θs}) exp(y (1 − e^{−θs}) − nμ s)

    where V is the wait a caller would have if infinitely patient; the caller
    is still waiting at s with probability e^{−θs} P(V > s), has hung up by t
    with probability θ ∫_0^t e^{−θs} P(V > s) ds =
    π_n A / (y P(a, y)) · [F(y) − F(y e^{−θt})], F(z) = z P(a, z) − a P(a+1, z)
    (P the regularised incomplete gamma), and the service level is one minus
    those two.
    """
    load = offered_load(arrival_rate, mean_handle)
    agents = _agents(agents)
    patience = _duration(patience, "patience", allow_inf=True)
    answer_within = _rate(answer_within, "answer_within")
    if math.isinf(patience):
        metrics = erlang_c_metrics(arrival_rate, mean_handle, agents, answer_within)
        return QueueMetrics(**{**asdict(metrics), "model": "erlang_a"})

    def result(p_wait: float, p_abandon: float, service_level: float) -> QueueMetrics:
        return QueueMetrics(
            model="erlang_a",
            arrival_rate=float(arrival_rate),
            mean_handle=float(mean_handle),
            agents=agents,
            answer_within=answer_within,
            patience=patience,
            load=load,
            p_wait=p_wait,
            p_abandon=p_abandon,
            mean_wait=p_abandon * patience,
            service_level=min(1.0, max(0.0, service_level)),
        )

    if load == 0:
        return result(0.0, 0.0, 1.0)
    if agents == 0:
        return result(1.0, 1.0, 0.0)

    # Time in units of the mean patience: θ = 1.
    a = agents * patience / mean_handle  # nμ/θ
    y = load * patience / mean_handle  # λ/θ
    p_wait, p_abandon, log_a = _erlang_a_waiting(load, agents, a, y)
    p_still_waiting, abandoned_by_t = _erlang_a_at_threshold(a, y, answer_within / patience, p_wait, p_abandon,
                                                             log_a)
    return result(p_wait, p_abandon, 1.0 - p_still_waiting - abandoned_by_t)


def _erlang_a_waiting(load: float, agents: int, a: float, y: float) -> tuple[float, float, float]:
    """Erlang A's P(W > 0) and P(hang up), with log A(a, y) (θ = 1; see :func:`erlang_a`)."""
    rho = load / agents
    log_a = _log_a_function(a, y)
    blocking = erlang_b(load, agents)
    # P(W > 0) = A E / (1 + (A − 1) E) = 1 / (1 + (1 − E) / (A E)), stable for huge A.
    p_wait = 1.0 / (1.0 + (1.0 - blocking) / blocking * math.exp(-log_a))
    a_value = math.exp(min(log_a, 700.0))
    p_abandon_given_wait = 1.0 / (rho * a_value) + 1.0 - 1.0 / rho
    p_abandon = min(p_wait, max(0.0, p_abandon_given_wait * p_wait))
    return p_wait, p_abandon, log_a


def _erlang_a_at_threshold(a: float, y: float, t: float, p_wait: float, p_abandon: float,
                           log_a: float) -> tuple[float, float]:
    """Erlang A at the service-level threshold θt = ``t``: P(still waiting), P(hung up by then)."""
    x = math.exp(-t)
    log_a_t = _log_a_function(a, y * x)
    p_still_waiting = p_wait * math.exp(log_a_t - log_a + y * (1.0 - x) - a * t - t)

    def f(z: float) -> float:
        return z * _gamma_cdf(a, z) - a * _gamma_cdf(a + 1.0, z)

    p_y = _gamma_cdf(a, y)
    if p_y > 1e-250:
        abandoned_by_t = p_wait / (y * p_y) * (f(y) - f(y * x))
    else:  # y ≪ a: hardly anyone waits long enough to hang up; integrate directly
        abandoned_by_t = _abandoned_by_quadrature(a, y, t, p_wait, log_a)
    abandoned_by_t = min(p_abandon, max(0.0, abandoned_by_t))
    return p_still_waiting, abandoned_by_t


def _abandoned_by_quadrature(a: float, y: float, t: float, p_wait: float, log_a: float) -> float:
    """θ ∫_0^t e^{−θs} P(V > s) ds by quadrature (θ = 1); the rarely used fallback."""
    from scipy.integrate import quad

    def integrand(s: float) -> float:
        x = math.exp(-s)
        return p_wait * math.exp(_log_a_function(a, y * x) - log_a + y * (1.0 - x) - a * s - s)

    value, _ = quad(integrand, 0.0, t, limit=200)
    return value
