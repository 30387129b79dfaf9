"""Does a test of the size ``python -m sim power`` computes detect the lift at the stated power?

Two checks, each running the champion/challenger test many times at the
computed size and counting how often the two-sided two-proportion z-test
(pooled, no continuity correction) rejects at α:

* **Bernoulli books.** Each arm's accounts cure independently with the
  stated rate (the formula's own model): the empirical power must be the
  target within its binomial noise, and with no lift the rejection rate must
  be α. This checks the formula and the rounding.
* **The engine** (``--engine``). The champion strategy (``baseline``) and a
  challenger (``early_field``) each run on a book of their own at the
  computed arm sizes, fresh seeds every trial, the teams scaled with the book
  (agents per account as in the scenario). The lift is taken from a pilot;
  the test reads each book's cure rate. Here accounts are not
  independent draws (they share agents, calendars and the call list), so
  the check also prints the design effect: the variance of a book's cure
  rate across trials over the binomial variance p(1 − p)/n.

Run: ``python benchmarks/power_check.py [--trials 20000] [--engine --engine-trials 200]``.
The last line is the headline: empirical power against the target.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from common import ROOT, positive_int, print_machine, print_table

from sim.power import rate_power, rate_test_size, z_values

# (kpi, base, lift, share): the example, a small challenger share, a fall of a rate.
DESIGNS = (
    ("cure_rate", 0.30, 0.02, 0.5),
    ("cure_rate", 0.30, 0.02, 0.1),
    ("charge_off_rate", 0.14, -0.015, 0.2),
    ("cure_rate", 0.57, 0.04, 0.5),
)


def rejects(x0, n0, x1, n1, alpha: float) -> np.ndarray:
    """The two-sided pooled two-proportion z-test (no continuity correction), one verdict per trial."""
    p0, p1 = x0 / n0, x1 / n1
    pooled = (x0 + x1) / (n0 + n1)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
    z = np.divide(p1 - p0, se, out=np.zeros_like(se), where=se > 0)
    return np.abs(z) > z_values(alpha, 0.5)[0]


def bernoulli_check(trials: int, seed: int, power: float, alpha: float) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    rows = []
    for kpi, base, lift, share in DESIGNS:
        size = rate_test_size(kpi, base, lift=lift, share=share, alpha=alpha, power=power)
        n0, n1 = size.accounts_champion, size.accounts_challenger
        # The sum of n Bernoulli accounts is a binomial draw: one per arm and trial.
        hit = rejects(rng.binomial(n0, base, trials), n0, rng.binomial(n1, base + lift, trials), n1, alpha).mean()
        null = rejects(rng.binomial(n0, base, trials), n0, rng.binomial(n1, base, trials), n1, alpha).mean()
        se = math.sqrt(hit * (1 - hit) / trials)
        rows.append([f"{kpi} {base:g}{lift:+g} share {share:g}", n0, n1, power,
                     rate_power(base, lift, n0, n1, alpha), float(hit), f"±{1.96 * se:.3f}", alpha, float(null)])
    return rows


def _cured(scenario, accounts: int, seed) -> float:
    """A book's cure rate: every synthetic account starts delinquent, so cured = rate × accounts.

    The teams grow with the book (agents in proportion to accounts, against the scenario's own
    size): with fixed teams a larger book gets less of each agent and cures less, and the
    lift would change with the size the formula asks for.
    """
    from sim.simulation import simulate

    scale = accounts / scenario.simulation.accounts
    overrides = {"simulation.accounts": accounts}
    for name, team in scenario.teams.items():
        if team.kind in ("call", "field"):
            overrides[f"teams.{name}.agents"] = max(1, round(team.agents * scale))
    result = simulate(scenario.with_overrides(overrides), seed, contact_log=False)
    return result.kpis["cure_rate"]


def engine_check(args) -> tuple[list[object] | None, str]:
    from sim.scenario import load_scenario

    sizes = {"simulation.days": args.days}
    champion = load_scenario(ROOT / "scenarios" / f"{args.champion}.toml", sizes)
    challenger = load_scenario(ROOT / "scenarios" / f"{args.challenger}.toml", sizes)
    # Agents are rounded to whole people, so the rates still move a little with the size: the
    # pilot runs at its own size, then once more at the size that gave (a refinement).
    pilot = np.random.SeedSequence(args.seed + 1).spawn(args.pilot_reps)
    n0 = n1 = args.pilot_accounts
    for _ in range(2):
        p0 = float(np.mean([_cured(champion, n0, s) for s in pilot]))
        p1 = float(np.mean([_cured(challenger, n1, s) for s in pilot]))
        if abs(p1 - p0) < 1e-3:
            return None, f"no lift in the pilot ({p0:.4f} vs {p1:.4f}): nothing to detect"
        size = rate_test_size("cure_rate", p0, lift=p1 - p0, share=0.5, alpha=args.alpha, power=args.power)
        n0, n1 = size.accounts_champion, size.accounts_challenger
        if n0 + n1 > args.max_accounts:
            return None, f"the lift {p1 - p0:+.4f} needs {n0 + n1:,} accounts, over --max-accounts"
    seeds = np.random.SeedSequence(args.seed).spawn(2 * args.engine_trials)
    r0 = np.array([_cured(champion, n0, seeds[2 * k]) for k in range(args.engine_trials)])
    r1 = np.array([_cured(challenger, n1, seeds[2 * k + 1]) for k in range(args.engine_trials)])
    hit = float(rejects(np.round(r0 * n0), n0, np.round(r1 * n1), n1, args.alpha).mean())
    q0, q1 = float(r0.mean()), float(r1.mean())
    effect = [float(r.var(ddof=1) / (q * (1 - q) / n)) for r, q, n in ((r0, q0, n0), (r1, q1, n1))]
    se = math.sqrt(hit * (1 - hit) / args.engine_trials)
    row = [f"engine {args.champion} vs {args.challenger} (pilot {p0:.3f}, {p1:.3f})", n0, n1, args.power,
           rate_power(q0, q1 - q0, n0, n1, args.alpha), hit, f"±{1.96 * se:.3f}", q0, q1, effect[0], effect[1]]
    return row, f"the engine: {hit:.3f} at {n0:,} + {n1:,} accounts"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=positive_int, default=20_000, help="Bernoulli trials per design")
    parser.add_argument("--power", type=float, default=0.8)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", action="store_true", help="also run the check on the engine")
    parser.add_argument("--engine-trials", type=positive_int, default=150)
    parser.add_argument("--champion", default="baseline")
    parser.add_argument("--challenger", default="early_field")
    parser.add_argument("--days", type=positive_int, default=30)
    parser.add_argument("--pilot-accounts", type=positive_int, default=10_000)
    parser.add_argument("--pilot-reps", type=positive_int, default=5)
    parser.add_argument("--max-accounts", type=positive_int, default=200_000,
                        help="skip the engine check if the test needs more accounts than this")
    args = parser.parse_args(argv)
    print_machine()
    print(f"\nBernoulli books, {args.trials:,} trials per design; two-sided z-test at α {args.alpha:g}")
    rows = bernoulli_check(args.trials, args.seed, args.power, args.alpha)
    print_table(["design", "champion n", "challenger n", "target", "formula power", "empirical power",
                 "95 % noise", "α", "rejections, no lift"], rows)
    found = [float(r[5]) for r in rows]
    headline = (f"headline: Bernoulli books: empirical power {min(found):.3f}-{max(found):.3f} "
                f"(target {args.power:g}, noise ±{1.96 * math.sqrt(args.power * (1 - args.power) / args.trials):.3f})")
    if args.engine:
        print(f"\nThe engine: {args.champion} and {args.challenger}, {args.days} days, each on its own book, "
              f"{args.engine_trials} trials; lift from a pilot of {args.pilot_reps} × {args.pilot_accounts:,} "
              "accounts")
        row, verdict = engine_check(args)
        if row is not None:
            print_table(["design", "champion n", "challenger n", "target", "formula power at trial rates",
                         "empirical power", "95 % noise", "champion rate", "challenger rate",
                         "design effect champion", "design effect challenger"], [row])
        headline += f"; {verdict}"
    print(headline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
