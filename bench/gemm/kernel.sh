#!/usr/bin/env bash
# A/B micro-benchmark of a GEMM path in thread CPU time: builds bench/gemm/kernel_bench.cc
# against the working tree and against native/ of a git revision (default HEAD), then runs
# the two binaries alternately ROUNDS times (min / median per case; see kernel_bench.cc).
#   bench/gemm/kernel.sh [REV] [ROUNDS]                       (the AVX2 path)
#   ISA=avx512vnni bench/gemm/kernel.sh [REV] [ROUNDS]        (the AVX-512 VNNI path, compiled
#                                                              for the hardware: needs a VNNI CPU)
# GEMM shapes can be narrowed with SHAPES="MxKxN ..." (default: the benchmark's list).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REV=${1:-HEAD}
ROUNDS=${2:-3}
ISA=${ISA:-avx2}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/tfjq-kbench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$OUT/base"
git -C "$ROOT" archive "$REV" native | tar -x -C "$OUT/base"
build() {  # build <native dir> <exe>
  local N=$1 exe=$2 objs=() pids=()
  local OPT=-O2
  [ "$ISA" = avx512vnni ] && OPT=-O3
  local BASE=(-std=c++17 "$OPT" -Wno-psabi -ffp-contract=off -fno-fast-math -I"$N" -DTFJQ_GEMM_ALLOW_UNSUPPORTED)
  local AVX2=(-mavx2 -mfma -mf16c -mbmi2)
  for f in common/cpu common/thread_pool gemm/gemm gemm/pack gemm/gemm_ref gemm/dynamic quant/quantize quant/quantize_ref; do
    g++ "${BASE[@]}" -c "$N/$f.cc" -o "$exe.$(basename $f).o" & pids+=($!); objs+=("$exe.$(basename $f).o"); done
  for f in quant/quantize_avx2 gemm/gemm_avx2 gemm/epilogue_avx2; do
    g++ "${BASE[@]}" "${AVX2[@]}" -c "$N/$f.cc" -o "$exe.$(basename $f).o" & pids+=($!); objs+=("$exe.$(basename $f).o"); done
  local VNNI512=(-DTFJQ_EMULATE_SIMD)
  # The CMakeLists.txt flags of *_avx512vnni files (and -O3 everywhere, as the addon's Release build).
  [ "$ISA" = avx512vnni ] && VNNI512=(-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512vnni -mavx2 -mfma -mf16c -mbmi2)
  g++ "${BASE[@]}" -DTFJQ_EMULATE_SIMD -c "$N/gemm/gemm_avxvnni.cc" -o "$exe.gemm_avxvnni.o" & pids+=($!); objs+=("$exe.gemm_avxvnni.o")
  local vnni512=(gemm/gemm_avx512vnni)
  # Files that revisions before them lack.
  for f in quant/quantize_avx512vnni gemm/epilogue_avx512vnni; do [ -f "$N/$f.cc" ] && vnni512+=("$f"); done
  for f in "${vnni512[@]}"; do
    g++ "${BASE[@]}" "${VNNI512[@]}" -c "$N/$f.cc" -o "$exe.$(basename $f).o" & pids+=($!); objs+=("$exe.$(basename $f).o"); done
  g++ "${BASE[@]}" -mavx2 -c "$ROOT/bench/gemm/kernel_bench.cc" -o "$exe.main.o" & pids+=($!); objs+=("$exe.main.o")
  for p in "${pids[@]}"; do wait "$p"; done
  g++ "${objs[@]}" -lpthread -o "$exe"
}
SHAPES_ARG=${SHAPES:-}
build "$OUT/base/native" "$OUT/base.exe"
build "$ROOT/native" "$OUT/new.exe"
for r in $(seq "$ROUNDS"); do
  echo "== round $r: $REV"; "$OUT/base.exe" 21 "$ISA" $SHAPES_ARG
  echo "== round $r: working tree"; "$OUT/new.exe" 21 "$ISA" $SHAPES_ARG
done
