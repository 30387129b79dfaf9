"""Random streams: one independent stream per stochastic input of a run.

All randomness of a run flows from one ``numpy.random.SeedSequence``. It is
split into named children in a fixed order, so that two strategies run with
the same seed draw the same portfolio and the same borrower randomness for
each input (common random numbers), and no global random state is touched.

The named streams are shared by the whole book in the order events happen:
whichever account an agent dials next takes the next call draws. That pairs
two strategies only as far as their events stay in the same order. For
comparisons account by account (the optimizer's valuation), a run can draw
every account's outcomes from its own numbered sequence instead
(:class:`AccountDraws`, ``simulate(..., paired_draws=True)``): the k-th dial
of account i gets the same uniforms whatever happened to the other accounts.
"""

from __future__ import annotations

import math
from array import array
from itertools import chain

import numpy as np

# New streams go at the end: the order fixes which child each name gets.
STREAM_NAMES = ("portfolio", "payments", "calls", "inbound", "automated", "field", "legal", "promises",
                "payment_followups", "assignment", "redefault", "offers", "arrivals", "arrival_assignment",
                "lifecycle", "replay")


def as_seed_sequence(seed) -> np.random.SeedSequence:
    """Accept an int, a SeedSequence or a Generator (SPEC 7) and return a SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        seq = seed.bit_generator.seed_seq
        if not isinstance(seq, np.random.SeedSequence):
            raise TypeError("the generator's bit generator has no SeedSequence")
        return seq
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError("a seed must be ≥ 0")
        return np.random.SeedSequence(int(seed))
    raise TypeError(f"seed must be an int, SeedSequence or Generator, not {type(seed).__name__}")


def describe_seed(seq: np.random.SeedSequence) -> dict:
    return {"entropy": int(seq.entropy) if isinstance(seq.entropy, int) else str(seq.entropy),
            "spawn_key": list(seq.spawn_key)}


class RandomStreams:
    """Named generators spawned from one SeedSequence."""

    def __init__(self, seed):
        self.seed_sequence = as_seed_sequence(seed)
        # Spawning from a copy keeps the caller's SeedSequence unchanged, so the
        # same seed object always yields the same streams.
        seq = np.random.SeedSequence(self.seed_sequence.entropy, spawn_key=self.seed_sequence.spawn_key)
        children = seq.spawn(len(STREAM_NAMES))
        self._generators = {name: np.random.Generator(np.random.PCG64(child))
                            for name, child in zip(STREAM_NAMES, children, strict=True)}

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._generators[name]


class UniformPool:
    """Uniform draws handed out one at a time, generated in blocks (fast scalar draws).

    ``uniforms`` is an iterator over the blocks (``rng.random(block)`` as Python floats, one block after
    another, each drawn when its first value is asked for): ``next(pool.uniforms)`` is a draw without a
    Python frame (the engine's calls, conversations and callers take ~20,000 a simulated day; the builtin
    ``next`` on it is half the cost of calling ``pool.next``, which gives the same draws).
    """

    __slots__ = ("next", "uniforms")

    def __init__(self, rng: np.random.Generator, block: int = 8192):
        self.uniforms = chain.from_iterable(_blocks(rng, block))
        self.next = self.uniforms.__next__

    def uniform_and_exponential(self, mean: float) -> tuple[float, float]:
        """One uniform and one exponential draw with the given mean (a call's outcome and length)."""
        u = self.next()
        return u, -mean * math.log(1.0 - self.next())

    def exponential(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.next())


def _blocks(rng: np.random.Generator, block: int):
    """``rng``'s uniforms in blocks of ``block``, as lists of Python floats (:class:`UniformPool`)."""
    while True:
        yield rng.random(block).tolist()


def keyed_accounts(rows: int, keys: np.ndarray | None) -> int:
    """How many accounts the rows draw for: one a row, or with ``keys`` (the account each row draws as) one a key."""
    if keys is None:
        return rows
    return int(keys.max()) + 1 if len(keys) else 0


class RowDayUniforms:
    """Two uniforms numbered by (account row, day): what a daily draw of every account would give, computed
    for any subset of rows (the book's live ones) at the cost of that subset.

    Row ``i``'s pair on day ``d`` is the two 32-bit halves of output number ``d·rows + i`` of SplitMix64
    (Steele, Lea & Flood 2014, the seeding generator of Java's SplittableRandom) started at ``key``: a
    counter-based generator, so a row's draws depend only on the key, the row and the day, never on which
    other rows were drawn. Two strategies run with the same seed therefore share every account's daily
    draws (common random numbers) however many accounts each has closed, and a day of a million live rows
    costs a million hashes, not one per row the book will ever hold. Uniforms in [0, 1) on a grid of 2⁻³²
    (a repayment's time and share need no finer: the chance of a draw below 2⁻³² is itself 2⁻³²).
    """

    _GAMMA = np.uint64(0x9E3779B97F4A7C15)
    _MIX1 = np.uint64(0xBF58476D1CE4E5B9)
    _MIX2 = np.uint64(0x94D049BB133111EB)

    def __init__(self, rng: np.random.Generator, rows: int, keys: np.ndarray | None = None):
        self.key = rng.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True)
        # ``keys``: the row whose draws each row reads (None: its own; copies of one account share its draws).
        self._keys = None if keys is None else np.asarray(keys, dtype=np.int64)
        self.rows = keyed_accounts(rows, self._keys)

    def draw(self, rows: np.ndarray, day: int) -> np.ndarray:
        """(2, len(rows)) uniforms: row ``rows[j]``'s two draws of day ``day`` at ``[0, j]`` and ``[1, j]``."""
        if self._keys is not None:
            rows = self._keys[rows]
        # SplitMix64: state = key + (index + 1)·γ, then its finaliser, in place (no temporaries but one).
        z = np.asarray(rows, dtype=np.uint64) + np.uint64(day * self.rows + 1)
        z *= self._GAMMA
        z += self.key
        shifted = np.empty_like(z)
        for shift, multiplier in ((30, self._MIX1), (27, self._MIX2)):
            np.right_shift(z, np.uint64(shift), out=shifted)
            z ^= shifted
            z *= multiplier
        np.right_shift(z, np.uint64(31), out=shifted)
        z ^= shifted
        halves = z.view(np.uint32).reshape(-1, 2)  # each output's two 32-bit halves
        out = np.empty((2, rows.size))
        np.multiply(halves[:, 0], 2.0**-32, out=out[0])
        np.multiply(halves[:, 1], 2.0**-32, out=out[1])
        return out


# Per-account draws (``simulate(..., paired_draws=True)``). Each purpose is a
# child of the run's seed keyed past the named streams' children (0 … 8).
PAIRED_KEY = 1_000
ACCOUNT_PURPOSES = ("dial", "conversation", "callback", "patience", "inbound_length", "visit", "legal",
                    "promise_keep", "instalment_keep", "followup")


class _AccountBlocks:
    """Uniforms numbered per account for one purpose, in blocks of ``block`` events.

    Block b is a (accounts, block × width) array from its own SeedSequence
    child (Philox, a counter-based generator), so the uniforms of account i's
    k-th event depend only on the seed, the purpose, i and k: never on what
    other accounts did, nor on the order in which events happened.

    A block is made a chunk of ``CHUNK`` accounts at a time, as its accounts
    reach it: Philox's counter is advanced to the chunk's first row
    (:meth:`_fill`), so a chunk holds the very numbers the whole block would
    (:meth:`_generate`, which the tests hold it to). Past its first block a
    purpose is reached by few accounts (a whole-book run at 5,000 accounts
    made 7 blocks of the callbacks' draws for its 22,266 rows, for the few
    hundred accounts messaged all horizon): made whole, the blocks' numbers
    and the memory written for them were a fifth of the run.
    """

    CHUNK = 64  # accounts; a multiple of 4, so that a chunk starts on a Philox counter step (4 outputs)

    def __init__(self, seed: np.random.SeedSequence, accounts: int, width: int, block: int = 16,
                 keys: np.ndarray | None = None):
        self._seed = seed
        # ``keys``: the row of the blocks each position draws from (None: its own). Positions with one key draw
        # the same numbers, each at its own pace: copies of one account in one run, as if each ran alone.
        self._keys = None if keys is None else np.asarray(keys, dtype=np.int64)
        self._key_list = None if keys is None else self._keys.tolist()
        self._accounts = keyed_accounts(accounts, self._keys)
        self.width = width
        self._stride = block * width
        self._chunks = -(-self._accounts // self.CHUNK)
        # Each block's generator, its state at the block's start and a Generator over it, made at first need.
        self._generators: list[tuple[np.random.Philox, dict, np.random.Generator]] = []

    def _generator(self, b: int) -> tuple[np.random.Philox, dict, np.random.Generator]:
        while len(self._generators) <= b:
            key = (*self._seed.spawn_key, len(self._generators))
            bits = np.random.Philox(np.random.SeedSequence(self._seed.entropy, spawn_key=key))
            self._generators.append((bits, bits.state, np.random.Generator(bits)))
        return self._generators[b]

    def _fill(self, b: int, chunk: int, out: np.ndarray) -> None:
        """Chunk ``chunk``'s rows of block ``b`` written into ``out`` (rows, block × width)."""
        bits, start, rng = self._generator(b)
        bits.state = start
        bits.advance(chunk * self.CHUNK * self._stride // 4)  # Philox4x64: four outputs a counter step
        rng.random(out=out)

    def _generate(self, b: int) -> np.ndarray:
        """Block ``b`` whole: (accounts, block × width) uniforms from the purpose's child ``b`` (Philox) — what
        the chunks of it hold."""
        key = (*self._seed.spawn_key, b)
        rng = np.random.Generator(np.random.Philox(np.random.SeedSequence(self._seed.entropy, spawn_key=key)))
        return rng.random((self._accounts, self._stride))

    def _chunk_rows(self, chunk: int) -> slice:
        return slice(chunk * self.CHUNK, min(self._accounts, (chunk + 1) * self.CHUNK))


class AccountUniforms(_AccountBlocks):
    """One account's event at a time (the agents' loops): ``draw(i)`` gives ``width`` uniforms."""

    def __init__(self, seed: np.random.SeedSequence, accounts: int, width: int, block: int = 16,
                 keys: np.ndarray | None = None):
        super().__init__(seed, accounts, width, block, keys)
        # Python arrays of doubles, read one account at a time by an agent's call: the same numbers as the
        # block's, held as raw doubles. A list of floats would be an object the cycle collector walks with
        # every float in it (a whole-book run ends with about 16,000 of them, 18 ms a collection); an array
        # holds no objects and is not tracked. An account's array is made at its first event (the empty
        # tuple until then): most accounts have no event of most purposes.
        self._rows: list[array | tuple] = [()] * accounts
        self._next = [0] * accounts
        # Block b's chunks made so far, by chunk (None: not yet).
        self._made: list[list[np.ndarray | None]] = []

    def _row(self, b: int, i: int) -> np.ndarray:
        """Account ``i``'s row of block ``b`` (its chunk of the block made if it is not yet)."""
        while len(self._made) <= b:
            self._made.append([None] * self._chunks)
        chunk = i // self.CHUNK
        part = self._made[b][chunk]
        if part is None:
            rows = self._chunk_rows(chunk)
            part = self._made[b][chunk] = np.empty((rows.stop - rows.start, self._stride))
            self._fill(b, chunk, part)
        return part[i - chunk * self.CHUNK]

    def draw(self, i: int) -> array:
        """Account ``i``'s next event: ``width`` uniforms (unpack or index them)."""
        row, k = self._rows[i], self._next[i]
        if k >= len(row):
            if not row:
                row = self._rows[i] = array("d")
            key = i if self._key_list is None else self._key_list[i]
            row.frombytes(self._row(len(row) // self._stride, key).tobytes())
        self._next[i] = k + self.width
        return row[k:k + self.width]


class AccountUniformArrays(_AccountBlocks):
    """Many accounts' events at once (the book's daily steps): ``draw(idx)`` gives (len(idx), width) uniforms.

    The blocks made so far are held one after another in one array, so that a
    draw is one gather whichever blocks its accounts are in: a run's
    deliveries draw a few accounts' events tens of thousands of times, and in
    a whole-book run over half of those draws mix accounts of two or more
    blocks (sorting them out block by block cost four times the gather).
    The first block is made whole at the first draw (most accounts drawn at
    all reach it, and a draw then needs no check); later ones a chunk at a
    time, when a drawn account's events reach what its chunk has
    (``_ready``).
    """

    def __init__(self, seed: np.random.SeedSequence, accounts: int, width: int, block: int = 16,
                 keys: np.ndarray | None = None):
        super().__init__(seed, accounts, width, block, keys)
        self._block_events = block
        self._events = np.zeros(accounts, dtype=np.int64)  # each position's events drawn so far
        self._ready = np.zeros(accounts, dtype=np.int64)  # events each position's chunk (of keys) has rows for
        self._chunk_blocks = np.zeros(self._chunks, dtype=np.int64)  # blocks made, by chunk of keys
        # With keys, the positions of each chunk of keys (their readiness moves with the chunk).
        self._chunk_positions = None
        if self._keys is not None:
            order = np.argsort(self._keys // self.CHUNK, kind="stable")
            cuts = np.searchsorted(self._keys[order] // self.CHUNK, np.arange(self._chunks + 1))
            self._chunk_positions = [order[cuts[c]:cuts[c + 1]] for c in range(self._chunks)]
        self._made = 0  # blocks made for every chunk
        # Room for the first blocks, made as they are needed (an untouched part of np.empty takes no memory).
        self._table = np.empty((FIRST_BLOCKS, self._accounts, self._stride))
        # An event a row: key i's k-th event, in block b = k // block, is row i·block + k + b·(keys − 1)·block.
        self._event_rows = self._table.reshape(-1, width)
        self._block_skip = (self._accounts - 1) * block

    def draw(self, idx: np.ndarray) -> np.ndarray:
        """One event of each account in ``idx`` (distinct positions)."""
        events = self._events[idx]
        self._events[idx] = events + 1
        if idx.size == 0:
            return np.empty((0, self.width))
        block = self._block_events
        top = int(_largest(events))
        if top >= self._made * block:
            if self._made == 0:
                self._make_first_block()
            if top >= block and _any(events >= self._ready[idx]):
                self._make_chunks(idx, events)
        rows = (idx if self._keys is None else self._keys[idx]) * block
        rows += events
        if top >= block:  # some accounts past their first block (none: most draws of a sample's run)
            rows += events // block * self._block_skip
        return self._event_rows.take(rows, axis=0)

    def _make_first_block(self) -> None:
        self._fill(0, 0, self._table[0])  # every chunk's at once: from the first row on
        self._chunk_blocks[:] = 1
        self._ready[:] = self._block_events
        self._made = 1

    def _make_chunks(self, idx: np.ndarray, events: np.ndarray) -> None:
        """The blocks the drawn accounts' events are in, made for their chunks (each chunk's in order)."""
        short = events >= self._ready[idx]
        need = events[short] // self._block_events + 1  # blocks each short account's chunk must have
        chunks = (idx[short] if self._keys is None else self._keys[idx[short]]) // self.CHUNK
        upto = np.zeros(self._chunks, dtype=np.int64)
        np.maximum.at(upto, chunks, need)
        wanted = np.flatnonzero(upto > self._chunk_blocks)
        top = int(upto.max())
        if top > self._table.shape[0]:
            self._grow(top)
        for chunk in wanted.tolist():
            rows = self._chunk_rows(chunk)
            for b in range(int(self._chunk_blocks[chunk]), int(upto[chunk])):
                self._fill(b, chunk, self._table[b, rows])
            self._chunk_blocks[chunk] = upto[chunk]
            positions = rows if self._chunk_positions is None else self._chunk_positions[chunk]
            self._ready[positions] = upto[chunk] * self._block_events
        self._made = int(self._chunk_blocks.min())

    def _grow(self, blocks: int) -> None:
        """Room for ``blocks`` blocks at least (doubled), the rows made so far copied (and only those: the
        rest of the new table stays untouched memory)."""
        table = np.empty((max(blocks, 2 * self._table.shape[0]), self._accounts, self._stride))
        for b in range(int(self._chunk_blocks.max())):
            for chunk in np.flatnonzero(self._chunk_blocks > b).tolist():
                rows = self._chunk_rows(chunk)
                table[b, rows] = self._table[b, rows]
        self._table, self._event_rows = table, table.reshape(-1, self.width)


FIRST_BLOCKS = 4  # AccountUniformArrays' room at first, in blocks (a sample's run reaches 7 or 8 in some purposes)
_largest = np.maximum.reduce  # an array's largest element, without ndarray.max's Python wrappers
_any = np.logical_or.reduce  # whether any element is true, likewise


class AccountDraws:
    """Every per-account purpose of one run: the k-th dial, conversation, promise … of each account.

    A run with these pairs with any other run of the same seed on the same
    book account by account: an account that two strategies treat alike
    draws the same outcomes for its calls, conversations, promises and
    repayments under both, whatever the strategies do to other accounts.
    """

    def __init__(self, seed: np.random.SeedSequence, accounts: int, keys: np.ndarray | None = None):
        """``keys``: the account whose numbers each row draws (None: its own). Rows that are copies of one
        account (several treatments' runs made as one) draw its numbers, each copy at its own pace."""
        def child(purpose: str) -> np.random.SeedSequence:
            key = (*seed.spawn_key, PAIRED_KEY + ACCOUNT_PURPOSES.index(purpose))
            return np.random.SeedSequence(seed.entropy, spawn_key=key)

        self.keys = keys
        self.accounts = keyed_accounts(accounts, keys)  # the accounts drawn for (fewer than rows with keys)
        self.dial = AccountUniforms(child("dial"), accounts, 2, keys=keys)  # outcome, length
        self.conversation = AccountUniforms(child("conversation"), accounts, 4, keys=keys)  # complaint, outcome, due, share
        self.callback = AccountUniformArrays(child("callback"), accounts, 2, keys=keys)  # calls back?, when
        self.patience = AccountUniforms(child("patience"), accounts, 1, keys=keys)
        self.inbound_length = AccountUniforms(child("inbound_length"), accounts, 1, keys=keys)
        self.visit = AccountUniforms(child("visit"), accounts, 2, keys=keys)  # length, found
        self.legal = AccountUniforms(child("legal"), accounts, 1, keys=keys)
        self.promise_keep = AccountUniformArrays(child("promise_keep"), accounts, 1, keys=keys)
        self.instalment_keep = AccountUniformArrays(child("instalment_keep"), accounts, 1, keys=keys)
        self.followup = AccountUniformArrays(child("followup"), accounts, 2, keys=keys)  # time, share

    @staticmethod
    def exponential(mean: float, u: float) -> float:
        return -mean * math.log(1.0 - u)
