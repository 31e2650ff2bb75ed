#!/usr/bin/env bash
# Our AVX-512 VNNI GEMM against oneDNN without Node in between: bench/gemm/kernel_bench.cc
# (our C++ API, int8 output, 1 thread, thread CPU time) and bench/gemm/onednn_mm.cc
# (OMP_NUM_THREADS=1, process CPU time), each engine alone in its own process, the two
# processes alternated ROUNDS times per shape. Prints a markdown table of the median of the
# per-round medians and the spread (lowest–highest per-round median) of each engine.
# run.ts measures ours through the N-API call (JS argument checks, a few microseconds a call,
# which is most of a 1 × 768 × 768 GEMV); this isolates the kernels. Needs an AVX-512 VNNI CPU
# and Debian's libdnnl-dev.
#   bench/gemm/native.sh [ROUNDS] [MxKxN ...]    (default: 5 rounds, the shapes of run.ts)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${1:-5}
shift || true
SHAPES=("$@")
[ ${#SHAPES[@]} -eq 0 ] && SHAPES=(1x768x768 1x4096x4096 16x768x3072 128x768x768 128x768x3072 512x1024x1024
  1024x1024x1024 3136x576x64 12544x27x32 784x1152x128)
grep -qw avx512_vnni /proc/cpuinfo || { echo "native.sh: this CPU has no AVX-512 VNNI" >&2; exit 77; }
[ -f /usr/include/oneapi/dnnl/dnnl.hpp ] || { echo "native.sh: libdnnl-dev is not installed" >&2; exit 77; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/tfjq-native.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
N=$ROOT/native
# The addon's Release flags: -O3, per-ISA flags on per-ISA files only (CMakeLists.txt).
BASE=(-std=c++17 -O3 -Wno-psabi -ffp-contract=off -fno-fast-math -I"$N" -DTFJQ_GEMM_ALLOW_UNSUPPORTED)
objs=() pids=()
for f in common/cpu common/thread_pool gemm/gemm gemm/pack gemm/gemm_ref gemm/dynamic quant/quantize quant/quantize_ref; do
  g++ "${BASE[@]}" -c "$N/$f.cc" -o "$OUT/$(basename $f).o" & pids+=($!); objs+=("$OUT/$(basename $f).o"); done
for f in quant/quantize_avx2 gemm/gemm_avx2 gemm/epilogue_avx2; do
  g++ "${BASE[@]}" -mavx2 -mfma -mf16c -mbmi2 -c "$N/$f.cc" -o "$OUT/$(basename $f).o" & pids+=($!); objs+=("$OUT/$(basename $f).o"); done
g++ "${BASE[@]}" -mavx2 -mavxvnni -mfma -mf16c -mbmi2 -c "$N/gemm/gemm_avxvnni.cc" -o "$OUT/gemm_avxvnni.o" & pids+=($!)
objs+=("$OUT/gemm_avxvnni.o")
g++ "${BASE[@]}" -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512vnni -mavx2 -mfma -mf16c -mbmi2 \
  -c "$N/gemm/gemm_avx512vnni.cc" -o "$OUT/gemm_avx512vnni.o" & pids+=($!); objs+=("$OUT/gemm_avx512vnni.o")
g++ "${BASE[@]}" -mavx2 -c "$ROOT/bench/gemm/kernel_bench.cc" -o "$OUT/main.o" & pids+=($!); objs+=("$OUT/main.o")
g++ -O2 -std=c++17 "$ROOT/bench/gemm/onednn_mm.cc" -ldnnl -o "$OUT/onednn_mm" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
g++ "${objs[@]}" -lpthread -o "$OUT/ours"

echo "| M | K | N | ours int8 µs (median; spread) | oneDNN s32 µs (median; spread) | oneDNN s8 µs (median) | ours GOPS | oneDNN best GOPS | ours / oneDNN best |"
echo "|---|---|---|---|---|---|---|---|---|"
for s in "${SHAPES[@]}"; do
  IFS=x read -r m k n <<<"$s"
  ours=() s32=() s8=()
  for _ in $(seq "$ROUNDS"); do
    ours+=("$("$OUT/ours" 15 avx512vnni "$s" | awk '{for (i = 1; i <= NF; i++) if ($i == "median") print $(i + 1)}')")
    j=$(OMP_NUM_THREADS=1 "$OUT/onednn_mm" "$m" "$k" "$n" 7 0.2)
    s32+=("$(sed -E 's/.*"s32": \{[^}]*"cpu": ([0-9.e+-]+).*/\1/' <<<"$j")")
    s8+=("$(sed -E 's/.*"s8": \{[^}]*"cpu": ([0-9.e+-]+).*/\1/' <<<"$j")")
  done
  python3 - "$m" "$k" "$n" "${ours[*]}" "${s32[*]}" "${s8[*]}" <<'PY'
import statistics, sys
m, k, n = map(int, sys.argv[1:4])
ours = [float(x) for x in sys.argv[4].split()]            # microseconds
s32 = [float(x) * 1e6 for x in sys.argv[5].split()]       # seconds → microseconds
s8 = [float(x) * 1e6 for x in sys.argv[6].split()]
med = statistics.median
ops = 2.0 * m * k * n
best = min(med(s32), med(s8))
print(f"| {m} | {k} | {n} | {med(ours):.1f} ({min(ours):.1f}–{max(ours):.1f}) | {med(s32):.1f} ({min(s32):.1f}–{max(s32):.1f}) "
      f"| {med(s8):.1f} | {ops / med(ours) / 1e3:.0f} | {ops / best / 1e3:.0f} | {best / med(ours):.2f} |")
PY
done
