"""Shared builders for the payoff tests: small debt files and hypothesis strategies."""

from __future__ import annotations

from hypothesis import strategies as st

from optimizer.payoff.amortisation import budget_needed
from optimizer.payoff.model import DebtFile


def debt_file(budget: float, *debts: dict, **extra) -> DebtFile:
    return DebtFile.from_dict({"budget": budget, "debts": list(debts), **extra}, source="test.toml")


minimum_rules = st.one_of(
    st.builds(lambda p, f: {"percent": p, "plus_interest": True, "floor": f},
              st.sampled_from([0.01, 0.02, 0.03]), st.sampled_from([0.0, 15.0, 25.0])),
    st.builds(lambda p: {"percent": p, "plus_interest": False, "floor": 20.0},
              st.sampled_from([0.03, 0.05])),
)


@st.composite
def us_debts(draw, promo: bool = False, max_debts: int = 3):
    """1-3 US card debts with whole-dollar balances and APRs up to 30 %."""
    count = draw(st.integers(1, max_debts))
    debts = []
    for i in range(count):
        debt = {
            "name": f"D{i}",
            "balance": float(draw(st.integers(100, 4000))),
            "apr": draw(st.integers(0, 30)) / 100,
            "minimum": draw(minimum_rules),
        }
        if promo and draw(st.booleans()):
            debt["promo"] = [{"months": draw(st.integers(1, 12)), "apr": 0.0}]
        debts.append(debt)
    return debts


@st.composite
def affordable_files(draw, promo: bool = False, max_debts: int = 3):
    """A debt file whose budget covers every minimum, plus some room to pay extra."""
    debts = draw(us_debts(promo=promo, max_debts=max_debts))
    bare = debt_file(0, *debts)
    budget = budget_needed(bare) + draw(st.integers(20, 600))
    return debt_file(round(budget, 2), *debts)


def fifty_debts(seed: int = 12, budget: float = 16_000.0) -> DebtFile:
    """A household with 50 cards and loans (the largest file allowed), drawn from a seeded Generator.

    Balances $500-$15,000, APRs 0-30 %, the default US minimum (1 % + interest,
    floor $25) on most, fixed instalments on some, a 0 % promotion on a few and
    an annual fee on a few: the mix that makes the LP need its binaries.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    debts = []
    for i in range(50):
        debt: dict = {"name": f"Debt {i:02d}", "balance": float(rng.integers(500, 15_001)),
                      "apr": int(rng.integers(0, 31)) / 100}
        kind = rng.random()
        if kind < 0.15:
            debt["minimum"] = {"fixed": float(rng.integers(50, 400))}
        elif kind < 0.3:
            debt["promo"] = [{"months": int(rng.integers(6, 19)), "apr": 0.0}]
        elif kind < 0.4:
            debt["annual_fee"] = float(rng.choice([49, 95, 150]))
        debts.append(debt)
    return debt_file(budget, *debts)
