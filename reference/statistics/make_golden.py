"""Golden p-values of the two-sided Mann-Whitney U test from SciPy, for
Tests/CrosscheckTests/ComparisonTests.swift (bench compare's significance test).

Exact distribution for samples without ties, the normal approximation with tie and continuity
corrections otherwise (SciPy's method='asymptotic', use_continuity=True).

    python3 reference/statistics/make_golden.py > reference/statistics/mannwhitney.json
"""
import json

import scipy
from scipy.stats import mannwhitneyu

cases = [
    ("exact, 5 against 6", [1.0, 2.1, 3.2, 4.3, 5.4], [2.5, 6.1, 7.2, 8.3, 9.4, 10.5], "exact"),
    ("exact, 3 against 3 separated", [1.0, 2.0, 3.0], [4.0, 5.0, 6.0], "exact"),
    ("exact, 10 against 10 interleaved", [float(x) for x in range(10)], [x + 0.5 for x in range(10)], "exact"),
    ("exact, 10 against 10 separated", [float(x) for x in range(10)], [x + 100.0 for x in range(10)], "exact"),
    ("ties, asymptotic", [1.0, 2, 2, 3, 3, 3, 4, 5], [3.0, 4, 4, 5, 6, 6, 7, 8, 8], "asymptotic"),
]
out = {"generator": f"scipy {scipy.__version__} scipy.stats.mannwhitneyu(alternative='two-sided')", "cases": []}
for name, a, b, method in cases:
    p = mannwhitneyu(a, b, alternative="two-sided", method=method, use_continuity=True).pvalue
    out["cases"].append({"name": name, "a": a, "b": b, "method": method, "p": float(p)})
print(json.dumps(out, indent=1))
