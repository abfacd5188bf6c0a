/// The seeded generator is part of the harness's API: suites and users' families generate their
/// inputs with it, and kernels that need randomness (randomized SVD, Monte Carlo) use the same one.
@_exported import SeededRandom
