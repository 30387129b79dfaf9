"""Random streams: one independent stream per stochastic input of a run.

All randomness of a run flows from one ``numpy.random.SeedSequence``. It is
split into named children in a fixed order, so that two strategies run with
the same seed draw the same portfolio and the same borrower randomness for
each input (common random numbers), and no global random state is touched.
"""

from __future__ import annotations

import math

import numpy as np

# New streams go at the end: the order fixes which child each name gets.
STREAM_NAMES = ("portfolio", "payments", "calls", "inbound", "automated", "field", "legal", "promises",
                "payment_followups")


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
    """Uniform draws handed out one at a time, generated in blocks (fast scalar draws)."""

    __slots__ = ("_rng", "_buffer", "_index", "_block")

    def __init__(self, rng: np.random.Generator, block: int = 8192):
        self._rng = rng
        self._block = block
        self._buffer: list[float] = []
        self._index = 0

    def next(self) -> float:
        if self._index >= len(self._buffer):
            self._buffer = self._rng.random(self._block).tolist()
            self._index = 0
        value = self._buffer[self._index]
        self._index += 1
        return value

    def uniform_and_exponential(self, mean: float) -> tuple[float, float]:
        """One uniform and one exponential draw with the given mean (a call's outcome and length)."""
        k = self._index
        buffer = self._buffer
        if k + 2 > len(buffer):
            self._buffer = buffer = buffer[k:] + self._rng.random(self._block).tolist()
            k = 0
        self._index = k + 2
        return buffer[k], -mean * math.log(1.0 - buffer[k + 1])

    def exponential(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.next())
