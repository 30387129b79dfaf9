"""repaylab's simulator: portfolios of overdue accounts under collection strategies."""

from .errors import ScenarioError
from .scenario import Scenario, load_scenario, load_scenario_text

__all__ = ["Scenario", "ScenarioError", "load_scenario", "load_scenario_text"]
__version__ = "0.1.0"
