"""The project's SeededGenerator (Sources/SeededRandom/SeededGenerator.swift), bit for bit, for the
peer scripts that must feed a peer the same inputs as the Swift suites: xoshiro256** seeded by
SplitMix64, `nextSigned()` = (next() >> 11) * 2^-52 - 1, Box-Muller normals. Pure Python: about a
microsecond per value.
"""
import math

import numpy as np

MASK = (1 << 64) - 1


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class SeededGenerator:
    """SeededGenerator(seed), bit for bit."""

    def __init__(self, seed):
        self.split = seed
        self.state = [self._splitmix() for _ in range(4)]

    def _splitmix(self):
        self.split = (self.split + 0x9E3779B97F4A7C15) & MASK
        z = self.split
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next(self):
        s = self.state
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform(self, count):
        """`[Double].uniform(count:using:)`: `count` values nextSigned() in [-1, 1), float64
        (`.astype(np.float32)` rounds them as `[Float].uniform` does)."""
        return np.array([(self.next() >> 11) * 2.0**-52 - 1 for _ in range(count)])

    def gaussian(self, count):
        """`[Double].gaussian(count:using:)`: `count` values nextGaussian()."""
        out = np.empty(count)
        for i in range(count):
            u1 = 0.0
            while u1 == 0.0:
                u1 = (self.next() >> 11) * 2.0**-53
            u2 = (self.next() >> 11) * 2.0**-53
            out[i] = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        return out
