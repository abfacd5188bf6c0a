#!/usr/bin/env bash
# The mutation suite: plants one bug at a time (scripts/mutants/*.patch) in a scratch copy of the
# committed tree and checks that `swift test` catches it, and that `bench --quick` catches it too
# when the mutated code is a kernel that bench runs. Prints a Markdown table. Too slow for CI
# (a build, the tests and a quick bench per mutant); run it before resolving an issue that
# touches a kernel.
#
#   scripts/mutants.sh              every mutant
#   scripts/mutants.sh gemm         the mutants whose file name contains "gemm"
#   scripts/mutants.sh '^(gemm|svd)' the mutants whose name matches an extended regular expression
#
# Each patch begins with two header lines, then a unified diff against the tree (git diff format):
#   # mutant: what the planted bug is
#   # bench: the --filter of the quick bench that must catch it, or "none" for code bench does not run
#
# Exit status: 0 when every mutant is caught as required, 1 otherwise.
set -uo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
scratch=${MUTANT_SCRATCH:-$root/.build-mutants}
pattern=${1:-}
source="$scratch/src"

if [[ -n "$pattern" ]]; then
  [[ "" =~ $pattern ]]
  if [[ $? == 2 ]]; then echo "mutants.sh: '$pattern' is not an extended regular expression" >&2; exit 2; fi
  matched=0
  for patch in "$root"/scripts/mutants/*.patch; do
    [[ "$(basename "$patch" .patch)" =~ $pattern ]] && matched=$((matched + 1))
  done
  if [[ $matched == 0 ]]; then echo "mutants.sh: no mutant in scripts/mutants/ matches '$pattern'" >&2; exit 2; fi
fi
log="$scratch/logs"

# A copy of the committed tree, refreshed on every run; its .build/ is kept between runs, so
# each mutant costs an incremental build.
# Only a directory this script made (it carries the marker) is ever emptied: MUTANT_SCRATCH pointed
# at a project of one's own must not cost its src/.
marker="$source/.crosscheck-mutants-scratch"
if [[ -e "$source" && ! -e "$marker" && -n "$(ls -A "$source" 2>/dev/null)" ]]; then
  echo "mutants.sh: $source exists and was not made by this script; refusing to empty it (choose another MUTANT_SCRATCH)" >&2
  exit 2
fi
mkdir -p "$source" "$log" "$scratch/results" && touch "$marker"
find "$source" -mindepth 1 -maxdepth 1 ! -name .build ! -name .crosscheck-mutants-scratch -exec rm -rf {} +
git -C "$root" archive HEAD | tar -x -C "$source"

cd "$source"
echo "building the unmutated tree in $source" >&2
if ! swift build --build-tests > "$log/baseline-build.txt" 2>&1; then
  echo "the unmutated tree does not build; see $log/baseline-build.txt" >&2
  exit 1
fi

echo "| mutant | planted bug | caught by swift test | caught by bench --quick |"
echo "|---|---|---|---|"
failures=0
for patch in "$root"/scripts/mutants/*.patch; do
  name=$(basename "$patch" .patch)
  [[ -n "$pattern" && ! "$name" =~ $pattern ]] && continue
  description=$(sed -n 's/^# mutant: //p' "$patch" | head -1)
  filter=$(sed -n 's/^# bench: //p' "$patch" | head -1)
  # patch(1), not git apply: inside the repository's tree git apply silently skips the paths.
  if ! patch -p1 --dry-run --silent < "$patch" > "$log/$name.apply.txt" 2>&1; then
    echo "| $name | $description | stale patch (does not apply) | - |"
    failures=$((failures + 1))
    continue
  fi
  patch -p1 --silent < "$patch"
  echo "mutant $name: building" >&2
  if ! swift build --build-tests > "$log/$name.build.txt" 2>&1; then
    echo "| $name | $description | does not compile (see logs) | - |"
    failures=$((failures + 1))
    patch -p1 -R --silent < "$patch"
    continue
  fi
  echo "mutant $name: swift test" >&2
  if swift test > "$log/$name.test.txt" 2>&1; then
    tests="**survived**"
    failures=$((failures + 1))
  else
    first=$(grep -m1 -oE '✘ Test [^ ]+' "$log/$name.test.txt" | sed 's/✘ Test //')
    tests="caught (${first:-build or crash})"
  fi
  if [[ "$filter" == "none" || -z "$filter" ]]; then
    bench="n/a (not run by bench)"
  else
    echo "mutant $name: bench --quick --filter '$filter'" >&2
    .build/debug/bench --quick --filter "$filter" --csv "$scratch/results/$name.csv" > "$log/$name.bench.txt" 2>&1
    status=$?
    if [[ $status == 1 ]]; then
      failed=$(grep -c ',fail,' "$scratch/results/$name.csv" 2>/dev/null || echo 0)
      bench="caught ($failed rows fail)"
    elif [[ $status == 0 ]]; then
      bench="**survived**"
      failures=$((failures + 1))
    else
      bench="caught (exit $status, crash)"
    fi
  fi
  echo "| $name | $description | $tests | $bench |"
  patch -p1 -R --silent < "$patch"
done
[[ $failures == 0 ]]
