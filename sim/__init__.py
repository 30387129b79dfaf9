"""repaylab's simulator: portfolios of overdue accounts under collection strategies."""

__version__ = "0.1.0"

from .errors import ScenarioError  # noqa: E402
from .metrics import RunResult  # noqa: E402
from .scenario import Scenario, load_scenario, load_scenario_text  # noqa: E402
from .simulation import simulate  # noqa: E402

__all__ = ["RunResult", "Scenario", "ScenarioError", "load_scenario", "load_scenario_text", "simulate"]
