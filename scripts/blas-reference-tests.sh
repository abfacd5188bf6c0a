#!/usr/bin/env bash
# Runs the reference BLAS test suite (Debian's libblas-test: netlib's xblat3s/xblat3d and the
# CBLAS testers xscblat3/xdcblat3) on the project's GEMM engine as a BLAS, preloaded, with only
# the GEMM sections switched on and N up to 65 (the testers' largest), and checks that every
# computational test and every error-exit test passes. CROSSCHECK_BLAS_TRACE counts the calls that
# reached our library, so a pass cannot come from the system BLAS.
#
#   scripts/blas-reference-tests.sh            (builds the CrosscheckBLAS product first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
testers=/usr/lib/x86_64-linux-gnu/blas
[[ -x $testers/xblat3s ]] || { echo "no $testers/xblat3s: install Debian's libblas-test" >&2; exit 1; }
cd "$root"
swift build --product CrosscheckBLAS >&2
library="$root/.build/debug/libCrosscheckBLAS.so"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

header() {  # $1 = summary file line (Fortran testers only), $2 = S or D
  cat <<IN
'$2BLAT3.SNAP'     NAME OF SNAPSHOT OUTPUT FILE
-1                UNIT NUMBER OF SNAPSHOT FILE (NOT USED IF .LT. 0)
F        LOGICAL FLAG, T TO REWIND SNAPSHOT FILE AFTER EACH RECORD.
F        LOGICAL FLAG, T TO STOP ON FAILURES.
T        LOGICAL FLAG, T TO TEST ERROR EXITS.
IN
}
values() {
  cat <<IN
16.0     THRESHOLD VALUE OF TEST RATIO
9                 NUMBER OF VALUES OF N
0 1 2 3 5 9 17 33 65  VALUES OF N
3                 NUMBER OF VALUES OF ALPHA
0.0 1.0 0.7       VALUES OF ALPHA
3                 NUMBER OF VALUES OF BETA
0.0 1.0 1.3       VALUES OF BETA
IN
}
status=0
for t in s d; do
  T=${t^^}
  # Fortran tester: summary to unit 6 (standard output).
  { echo "'${t}blat3.out'      NAME OF SUMMARY OUTPUT FILE"; echo "6                 UNIT NUMBER OF SUMMARY FILE"
    header "" "$T"; values
    echo "${T}GEMM  T PUT F FOR NO TEST. SAME COLUMNS."
    for r in SYMM TRMM TRSM SYRK SYR2K; do printf '%-6s F PUT F FOR NO TEST. SAME COLUMNS.\n' "$T$r"; done
  } > "${t}blat3.in"
  CROSSCHECK_BLAS_TRACE=1 LD_PRELOAD="$library" "$testers/xblat3$t" < "${t}blat3.in" > "f$t.stdout" 2> "f$t.trace" || true
  summary="${t}blat3.out"; [[ -s $summary ]] || summary="f$t.stdout"
  calls=$(grep -c "${t}gemm_" "f$t.trace" || true)
  grep -E "${T}GEMM " "$summary" | sed 's/^ */xblat3'"$t"': /'
  echo "xblat3$t: $calls calls reached libCrosscheckBLAS"
  grep -q "${T}GEMM  PASSED THE TESTS OF ERROR-EXITS" "$summary" && grep -q "${T}GEMM  PASSED THE COMPUTATIONAL TESTS" "$summary" \
    && [[ $calls -gt 0 ]] || { echo "xblat3$t: FAILED (see $summary)"; cat "$summary"; status=1; }

  # CBLAS tester: reads its input from standard input; needs netlib's CBLAS globals, so the
  # reference libblas is put first and our GEMMs are preloaded over it.
  { header "" "$T"; echo "2        0 TO TEST COLUMN-MAJOR, 1 TO TEST ROW-MAJOR, 2 TO TEST BOTH"; values
    echo "cblas_${t}gemm  T PUT F FOR NO TEST. SAME COLUMNS."
    for r in symm trmm trsm syrk syr2k; do printf 'cblas_%-6s F PUT F FOR NO TEST. SAME COLUMNS.\n' "$t$r"; done
  } > "${t}in3"
  CROSSCHECK_BLAS_TRACE=1 LD_LIBRARY_PATH="$testers" LD_PRELOAD="$library" "$testers/x${t}cblat3" < "${t}in3" > "c$t.stdout" 2> "c$t.trace" || true
  calls=$(grep -c "cblas_${t}gemm" "c$t.trace" || true)
  grep -E "cblas_${t}gemm " "c$t.stdout" | sed 's/^ */x'"$t"'cblat3: /'
  echo "x${t}cblat3: $calls calls reached libCrosscheckBLAS"
  [[ $(grep -c "cblas_${t}gemm  PASSED" "c$t.stdout") == 3 ]] && [[ $calls -gt 0 ]] \
    || { echo "x${t}cblat3: FAILED"; cat "c$t.stdout" "c$t.trace" | tail -20; status=1; }
done
exit $status
