#!/usr/bin/env bash
# Builds and runs the libFuzzer target of the SafeTensors reader (Fuzz/SafeTensorsFuzzer).
#
#   scripts/fuzz-safetensors.sh [RUNS] [-- extra libFuzzer flags]     # default RUNS: 1000000
#   scripts/fuzz-safetensors.sh 0 -- crash-file                       # replay one input
#
# How it is built, and why this way (Swift 6.3 on Linux): `swiftc -sanitize=fuzzer,address`
# compiles Sources/SafeTensors/*.swift together with Fuzz/SafeTensorsFuzzer/FuzzEntry.swift into
# one module and links libFuzzer's main, which calls the @_cdecl("LLVMFuzzerTestOneInput")
# entry. A target in Package.swift cannot carry -sanitize=fuzzer without every `swift build`
# linking libFuzzer's main into it, so the fuzzer lives outside the package's targets and uses
# the same sources. -O keeps the package's checked optimization (bounds and overflow traps
# stay, and a trap is a finding). The build goes to .build/fuzz/.
#
# The committed seed corpus (Fuzz/SafeTensorsFuzzer/corpus, made by make_corpus.py) is read;
# new inputs go to .build/fuzz/corpus; crashes, leaks and timeouts to .build/fuzz/artifacts/.
# Each input has a 10 s time limit (a hang is a finding) and the process a 2 GB memory limit.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1000000}"
shift || true
[[ "${1:-}" == "--" ]] && shift
out=.build/fuzz
mkdir -p "$out/corpus" "$out/artifacts"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name SafeTensorsFuzz \
    Sources/SafeTensors/*.swift Fuzz/SafeTensorsFuzzer/FuzzEntry.swift -o "$out/safetensors-fuzzer"
if [[ "$runs" == 0 ]]; then
    exec "$out/safetensors-fuzzer" "$@"
fi
exec "$out/safetensors-fuzzer" -runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -dict=Fuzz/SafeTensorsFuzzer/safetensors.dict -artifact_prefix="$out/artifacts/" -print_final_stats=1 \
    "$@" "$out/corpus" Fuzz/SafeTensorsFuzzer/corpus
