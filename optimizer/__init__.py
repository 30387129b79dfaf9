"""repaylab's optimizers: capacity allocation, staffing, and borrowers' payoff plans."""

__version__ = "0.1.0"
