"""Capacity allocation: which segments get which treatment, within agent hours and budget.

The package's public names are imported from here (``from optimizer.allocation
import allocate``); the modules are listed in ``docs/architecture.md``.
"""

from .search import (
    CALL_UTILISATION,
    VALUATIONS,
    AgentValue,
    Allocation,
    AllocationModel,
    ArrayHiGHS,
    Plan,
    Verification,
    adopt_reference,
    agent_values,
    allocate,
    build_allocation_model,
    continuation_table,
    ladder_worth,
    largest_remainder,
    largest_remainder_rows,
    one_more_agent,
    plan_steps,
    solve,
    team_capacity,
    valuers,
    verify,
    with_strategy,
    within_budget,
)

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
