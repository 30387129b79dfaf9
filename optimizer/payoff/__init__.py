"""A borrower's way out of debt: which debt to pay first, when each is paid, what the minimum costs.

``model`` is the debt file's schema and the card terms, ``amortisation``
repays the debts month by month to the cent under a strategy, ``lp`` finds the
cheapest plan as a linear program, ``advisor`` runs the strategies and the
minimum-payment trap, and ``report`` turns the advice into text, JSON, CSV and a
chart. May import :mod:`optimizer.solvers` and ``sim``'s errors and file reading.
"""
