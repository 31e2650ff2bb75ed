#!/usr/bin/env bash
# A/B micro-benchmark of the AVX2 GEMM in thread CPU time: builds bench/gemm/kernel_bench.cc
# against the working tree and against native/ of a git revision (default HEAD), then runs
# the two binaries alternately ROUNDS times (min / median per case; see kernel_bench.cc).
#   bench/gemm/kernel.sh [REV] [ROUNDS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REV=${1:-HEAD}
ROUNDS=${2:-3}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/tfjq-kbench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$OUT/base"
git -C "$ROOT" archive "$REV" native | tar -x -C "$OUT/base"
build() {  # build <native dir> <exe>
  local N=$1 exe=$2 objs=() pids=()
  local BASE=(-std=c++17 -O2 -Wno-psabi -ffp-contract=off -fno-fast-math -I"$N" -DTFJQ_GEMM_ALLOW_UNSUPPORTED)
  local AVX2=(-mavx2 -mfma -mf16c -mbmi2)
  for f in common/cpu common/thread_pool gemm/gemm gemm/pack gemm/gemm_ref gemm/dynamic quant/quantize quant/quantize_ref; do
    g++ "${BASE[@]}" -c "$N/$f.cc" -o "$exe.$(basename $f).o" & pids+=($!); objs+=("$exe.$(basename $f).o"); done
  for f in quant/quantize_avx2 gemm/gemm_avx2 gemm/epilogue_avx2; do
    g++ "${BASE[@]}" "${AVX2[@]}" -c "$N/$f.cc" -o "$exe.$(basename $f).o" & pids+=($!); objs+=("$exe.$(basename $f).o"); done
  local emulated=(gemm/gemm_avxvnni gemm/gemm_avx512vnni)
  # Files that revisions before them lack.
  for f in quant/quantize_avx512vnni gemm/epilogue_avx512vnni; do [ -f "$N/$f.cc" ] && emulated+=("$f"); done
  for f in "${emulated[@]}"; do
    g++ "${BASE[@]}" -DTFJQ_EMULATE_SIMD -c "$N/$f.cc" -o "$exe.$(basename $f).o" & pids+=($!); objs+=("$exe.$(basename $f).o"); done
  g++ "${BASE[@]}" -mavx2 -c "$ROOT/bench/gemm/kernel_bench.cc" -o "$exe.main.o" & pids+=($!); objs+=("$exe.main.o")
  for p in "${pids[@]}"; do wait "$p"; done
  g++ "${objs[@]}" -lpthread -o "$exe"
}
build "$OUT/base/native" "$OUT/base.exe"
build "$ROOT/native" "$OUT/new.exe"
for r in $(seq "$ROUNDS"); do
  echo "== round $r: $REV"; "$OUT/base.exe" 21
  echo "== round $r: working tree"; "$OUT/new.exe" 21
done
