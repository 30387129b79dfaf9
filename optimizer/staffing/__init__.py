"""Staffing an inbound line: how many agents each interval needs, and the fewest paid shifts that cover them.

``queueing`` holds the queueing formulas (Erlang B, C and A), ``requirements``
turns calls per interval into agents per interval (service level, abandonment,
occupancy, shrinkage), and ``shifts`` rosters the shifts that cover them as an
integer program. May import :mod:`optimizer.solvers`; nothing from ``sim``.
"""
