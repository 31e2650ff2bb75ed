#!/usr/bin/env bash
# Before/after of the AVX-512 VNNI GEMM in one process (see ab_bench.cc): the GEMM of git
# revision REV (namespace renamed) and the working tree's are linked into one binary and timed
# alternately sample by sample. Needs an AVX-512 VNNI CPU. Prints a markdown table.
#   [AB_MODE=int8|dyn|dyn-tensor] bench/gemm/ab.sh [REV] [SAMPLES] [SIGNED] [MxKxN ...]
#   (default: int8, main, 21, 1, small-K convolutions; the modes: bench/gemm/ab_make.cc)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REV=${1:-main}
SAMPLES=${2:-21}
SIGNED=${3:-1}
shift 3 || shift $#
SHAPES=("$@")
[ ${#SHAPES[@]} -eq 0 ] && SHAPES=(12544x27x32 12544x16x96 12544x32x16 3136x24x144 3136x144x24 784x144x32)
grep -qw avx512_vnni /proc/cpuinfo || { echo "ab.sh: this CPU has no AVX-512 VNNI" >&2; exit 77; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/tfjq-ab.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$OUT/base"
git -C "$ROOT" archive "$REV" native | tar -x -C "$OUT/base"
objs=() pids=()
build() {  # build <native dir> <tag> <extra flags...>: the addon's Release flags, per-ISA flags per file
  local N=$1 tag=$2
  shift 2
  local BASE=(-std=c++17 -O3 -Wno-psabi -ffp-contract=off -fno-fast-math -I"$N" "$@")
  local f
  for f in common/cpu common/thread_pool gemm/gemm gemm/pack gemm/gemm_ref gemm/dynamic quant/quantize quant/quantize_ref; do
    g++ "${BASE[@]}" -c "$N/$f.cc" -o "$OUT/$tag.$(basename $f).o" & pids+=($!); objs+=("$OUT/$tag.$(basename $f).o"); done
  for f in quant/quantize_avx2 gemm/gemm_avx2 gemm/epilogue_avx2; do
    g++ "${BASE[@]}" -mavx2 -mfma -mf16c -mbmi2 -c "$N/$f.cc" -o "$OUT/$tag.$(basename $f).o" & pids+=($!)
    objs+=("$OUT/$tag.$(basename $f).o"); done
  g++ "${BASE[@]}" -mavx2 -mavxvnni -mfma -mf16c -mbmi2 -c "$N/gemm/gemm_avxvnni.cc" -o "$OUT/$tag.avxvnni.o" & pids+=($!)
  objs+=("$OUT/$tag.avxvnni.o")
  local vnni512=(gemm/gemm_avx512vnni)
  # Files that revisions before them lack.
  for f in quant/quantize_avx512vnni gemm/epilogue_avx512vnni; do [ -f "$N/$f.cc" ] && vnni512+=("$f"); done
  for f in "${vnni512[@]}"; do
    g++ "${BASE[@]}" -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512vnni -mavx2 -mfma -mf16c -mbmi2 \
      -c "$N/$f.cc" -o "$OUT/$tag.$(basename $f).o" & pids+=($!); objs+=("$OUT/$tag.$(basename $f).o"); done
  g++ "${BASE[@]}" -c "$ROOT/bench/gemm/ab_make.cc" -o "$OUT/$tag.make.o" & pids+=($!); objs+=("$OUT/$tag.make.o")
}
build "$OUT/base/native" base -Dtfjq=tfjq_base -DFN=MakeBase
build "$ROOT/native" new -DFN=MakeNew
g++ -std=c++17 -O2 -c "$ROOT/bench/gemm/ab_bench.cc" -o "$OUT/main.o" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
g++ "${objs[@]}" "$OUT/main.o" -lpthread -o "$OUT/ab"
echo "| M | K | N | $REV µs (min / median) | working tree µs (min / median) | ratio (min / median) | working tree GOPS (median) |"
echo "|---|---|---|---|---|---|---|"
"$OUT/ab" "$SAMPLES" "$SIGNED" "${SHAPES[@]}"
