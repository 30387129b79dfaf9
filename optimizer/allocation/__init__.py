"""Capacity allocation: which segments get which treatment, within agent hours and budget.

The package's public names are imported from here (``from optimizer.allocation
import allocate``); the modules are listed in ``docs/architecture.md``.
"""

from .lp import (
    CALL_UTILISATION,
    AllocationModel,
    ArrayHiGHS,
    build_allocation_model,
    solve,
    team_capacity,
)
from .plan import (
    AgentValue,
    Plan,
    continuation_table,
    largest_remainder,
    largest_remainder_rows,
    plan_steps,
)
from .search import (
    VALUATIONS,
    Allocation,
    adopt_reference,
    agent_values,
    allocate,
    ladder_worth,
    one_more_agent,
    valuers,
    with_strategy,
    within_budget,
)
from .verify import Verification, verify

__all__ = [
    "CALL_UTILISATION",
    "VALUATIONS",
    "AgentValue",
    "Allocation",
    "AllocationModel",
    "ArrayHiGHS",
    "Plan",
    "Verification",
    "adopt_reference",
    "agent_values",
    "allocate",
    "build_allocation_model",
    "continuation_table",
    "ladder_worth",
    "largest_remainder",
    "largest_remainder_rows",
    "one_more_agent",
    "plan_steps",
    "solve",
    "team_capacity",
    "valuers",
    "verify",
    "with_strategy",
    "within_budget",
]
