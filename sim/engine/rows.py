"""Sets of the book's rows (account positions): distinct positions in ascending order, by sorting; a subset by a
mask; a table's rows.

The engine gathers rows from many places each day (today's payers, the
accounts written into a ring, the call lists of several ladder steps) and
needs each once, ascending. ``np.unique`` gives that, but NumPy 2.4 answers
integer arrays through a hash table that costs ~100× a sort on a few hundred
thousand positions (0.35 s against 2 ms here), which made it one of the
largest costs of a million-account day; a sort and a comparison of
neighbours give the very same arrays.
"""

from __future__ import annotations

import numpy as np

# kept(): from this many rows a count of the mask picks boolean indexing or np.compress (below it the count
# is not worth its call); boolean indexing from this share of the rows kept on.
MANY_ROWS = 4096
NEARLY_ALL = 0.98


def distinct(rows: np.ndarray) -> np.ndarray:
    """The distinct values of ``rows``, ascending (``np.unique(rows)``)."""
    rows = np.sort(rows)
    if rows.size < 2:
        return rows
    keep = np.empty(rows.size, dtype=bool)
    keep[0] = True
    np.not_equal(rows[1:], rows[:-1], out=keep[1:])
    return rows[keep]


def distinct_first(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``rows``, ascending, and where each first occurs
    (``np.unique(rows, return_index=True)``)."""
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    keep = np.empty(rows.size, dtype=bool)
    if rows.size:
        keep[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep], order[keep]


def kept(rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``rows[mask]`` for a boolean ``mask`` as long as ``rows`` (along the first axis): the same array.

    NumPy's boolean indexing decides element by element, and a mask with no
    pattern (days past due in a range, a cadence met, a filter half the rows
    pass) defeats the processor's branch prediction: on this machine's NumPy
    2.4, ``rows[mask]`` over a million rows with half of them kept took 4.4 ms
    of CPU, ``np.compress`` 0.7 ms (1.5 against 0.8 ms with 90 % kept; 0.84
    against 1.03 ms with 98 %, the one case it loses). The engine narrows its
    live rows this way dozens of times a day.

    Most of those masks drop almost nothing (the live rows less the few closed
    since, the workable rows less the few on a plan), and there boolean
    indexing, which copies runs of kept rows, wins: over a million rows,
    0.45-0.65 ms against compress's 0.82-0.85 ms with 98-99.9 % kept, and a
    plain copy 0.19 ms when all are. A count of the kept rows (0.03 ms) picks
    the way; every way gives the same array.
    """
    if mask.shape[0] != rows.shape[0]:  # np.compress would quietly cut to the shorter of the two
        raise ValueError(f"a mask of {mask.shape[0]} rows for {rows.shape[0]}")
    if mask.shape[0] < MANY_ROWS:
        return rows.compress(mask, axis=0)  # np.compress's method: no Python wrappers (called ~50,000 times a run)
    count = np.count_nonzero(mask)
    if count == mask.shape[0]:
        return rows.copy()
    if count >= NEARLY_ALL * mask.shape[0]:
        return rows[mask]
    return rows.compress(mask, axis=0)


def table_rows(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``table[rows]`` for a 2-D ``table`` (a row per account): the same array, through ``np.take``, which copies
    whole rows where fancy indexing walks element by element (0.1 ms against 0.9 ms for 33,000 rows of six
    columns out of 5.3 M, CPU time, on this machine)."""
    return np.take(table, rows, axis=0)


def put_table_rows(table: np.ndarray, rows: np.ndarray, values) -> None:
    """``table[rows] = values`` for a 2-D C-ordered ``table`` (a row per account): each row written whole, as
    one element of a byte view of the table, instead of element by element (0.13 against 0.54 ms for 33,000
    rows of six columns out of 5.3 M, CPU time, on this machine). A repeated row takes its last values, as
    with the assignment; ``values`` is one row for all, or a row each."""
    if not table.flags.c_contiguous:
        table[rows] = values
        return
    width = table.dtype.itemsize * table.shape[1]
    whole = np.dtype((np.void, width))
    values = np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=table.dtype), (len(rows), table.shape[1])))
    np.put(table.view(whole).reshape(table.shape[0]), rows, values.view(whole).reshape(len(rows)))


def stable_argsort(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` for a float ``key``: equal keys in the order of their positions.

    NumPy's default argsort (vectorised) sorts the 96,000 keys of a million-account
    call list in ~1 ms of CPU, the stable one in ~7 ms. The default leaves equal
    keys in any order, so each run of equal keys (balances clipped at the
    portfolio's maximum tie, for one) is put back in position order: the run's
    number × n + position, sorted, keeps the runs where they are.
    """
    order = np.argsort(key)
    if order.size < 2:
        return order
    ordered = key[order]
    if np.isnan(ordered[-1]):  # NaN sorts last but compares unequal: rare enough for the stable sort itself
        return np.argsort(key, kind="stable")
    ties = ordered[1:] == ordered[:-1]
    if not ties.any():
        return order
    tied = np.zeros(order.size, dtype=bool)
    tied[1:] = ties
    tied[:-1] |= ties
    run = np.zeros(order.size, dtype=np.int64)
    np.cumsum(~ties, out=run[1:])
    at = np.flatnonzero(tied)
    runs_then_positions = run[at] * order.size + order[at]
    runs_then_positions.sort()
    order[at] = runs_then_positions % order.size
    return order


def minutes_order(minutes: np.ndarray) -> np.ndarray:
    """``np.argsort(minutes, kind="stable")`` for integer minutes less than a day apart (a batch's send minutes).

    From the earliest they fit 16 bits, and NumPy's stable sort of 16-bit keys is a radix sort (linear: about
    half the time of the 64-bit merge sort on a batch of 70,000); a map that keeps the order keeps the stable
    order of equal keys too, so the permutation is the same.
    """
    if minutes.size == 0:
        return np.zeros(0, np.int64)
    shifted = minutes - minutes.min()
    if shifted.max() > np.iinfo(np.int16).max:
        return np.argsort(minutes, kind="stable")
    return np.argsort(shifted.astype(np.int16), kind="stable")
