"""Crosscheck's SeededGenerator (Sources/SeededRandom/SeededGenerator.swift), bit for bit:
xoshiro256** seeded by SplitMix64; `next_signed` (uniform in [-1, 1)) and `gaussian` (Box–Muller,
one of the pair kept) as the Swift `nextSigned` and `nextGaussian` compute them, so that peer
scripts rebuild the inputs `bench` makes from the same seed. Pure Python: about a million values
a second. `reference/solvers/golden.json` records values of the Swift generator that
Tests/KernelsTests/SolversGoldenTests.swift compares against this one's.
"""
import math

import numpy as np

MASK = (1 << 64) - 1


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class SeededGenerator:
    def __init__(self, seed):
        self._split = seed & MASK
        self._state = [self._splitmix() for _ in range(4)]

    def _splitmix(self):
        self._split = (self._split + 0x9E3779B97F4A7C15) & MASK
        z = self._split
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next(self):
        s = self._state
        result = (_rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def next_signed(self):
        """Uniform in [-1, 1): Swift's `nextSigned`."""
        return (self.next() >> 11) * 2.0**-52 - 1.0

    def next_gaussian(self):
        """Standard normal: Swift's `nextGaussian`."""
        u1 = 0.0
        while u1 == 0.0:
            u1 = (self.next() >> 11) * 2.0**-53
        u2 = (self.next() >> 11) * 2.0**-53
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def uniform(self, count):
        """`[Double].uniform(count:using:)`."""
        return np.array([self.next_signed() for _ in range(count)])

    def gaussian(self, count):
        """`[Double].gaussian(count:using:)`."""
        return np.array([self.next_gaussian() for _ in range(count)])
