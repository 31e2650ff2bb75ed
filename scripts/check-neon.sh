#!/usr/bin/env bash
# NEON check of the GEMM kernels on an x86 machine: cross-compiles the ref, neon, neondot and
# neoni8mm paths (+ driver, native/quant for the dynamic path, and the native harness) with
# aarch64-linux-gnu-g++ and runs the harness under qemu (`-cpu max`: Advanced SIMD, dot
# product, 8-bit matrix multiply), comparing every path with the reference bit for bit.
# Prints PASS/FAIL counts; exits non-zero on any mismatch, 77 when the toolchain is missing
# (skip).
#   scripts/check-neon.sh [--quick]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CXX=${CXX_AARCH64:-aarch64-linux-gnu-g++}
QEMU=${QEMU_AARCH64:-qemu-aarch64-static}
SYSROOT=${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}
command -v "$CXX" >/dev/null || { echo "SKIP: $CXX not found"; exit 77; }
command -v "$QEMU" >/dev/null || { echo "SKIP: $QEMU not found"; exit 77; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/tfjq-neon.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
BASE=(-std=c++17 -O2 -ffp-contract=off -fno-fast-math -I"$ROOT/native")
N=native
EXTRA=()
QUANT=()
if [ -f "$ROOT/$N/quant/quantize_neon.cc" ]; then
  QUANT=(quant:$N/quant/quantize.cc quant_ref:$N/quant/quantize_ref.cc quant_neon:$N/quant/quantize_neon.cc
         dyn:$N/gemm/dynamic.cc)
else
  EXTRA=(-DTFJQ_GEMM_TEST_NO_DYNAMIC)
fi
cd "$ROOT"
pids=()
build() { local out=$1; shift; "$CXX" "${BASE[@]}" "$@" -c -o "$OUT/$out.o" & pids+=($!); }
build cpu $N/common/cpu.cc
build pool $N/common/thread_pool.cc
build gemm $N/gemm/gemm.cc
build pack $N/gemm/pack.cc
build ref $N/gemm/gemm_ref.cc
build neon $N/gemm/gemm_neon.cc
build neondot -march=armv8.2-a+dotprod $N/gemm/gemm_neondot.cc
build neoni8mm -march=armv8.2-a+dotprod+i8mm $N/gemm/gemm_neoni8mm.cc
build tests -DTFJQ_GEMM_TEST_MAIN "${EXTRA[@]}" $N/tests/gemm_tests.cc
for q in "${QUANT[@]}"; do build "${q%%:*}" "${q#*:}"; done
for p in "${pids[@]}"; do wait "$p"; done
"$CXX" "$OUT"/*.o -lpthread -o "$OUT/gemm_neon"
echo "check-neon: ref, neon, neondot, neoni8mm cross-compiled for aarch64; running under $QEMU -cpu max"
"$QEMU" -cpu max -L "$SYSROOT" "$OUT/gemm_neon" "$@"
# int4 kernels: ref + neon paths and their own test main, same objects otherwise.
pids=()
build int4 $N/gemm/int4.cc
build int4_ref $N/gemm/gemm_int4_ref.cc
build int4_neon $N/gemm/gemm_int4_neon.cc
build int4_tests -DTFJQ_INT4_TEST_MAIN $([ ${#QUANT[@]} -eq 0 ] && echo -DTFJQ_INT4_TEST_NO_DYNAMIC) $N/tests/int4_tests.cc
for p in "${pids[@]}"; do wait "$p"; done
"$CXX" "$OUT"/{cpu,pool,gemm,pack,ref,neon,neondot,neoni8mm,int4,int4_ref,int4_neon,int4_tests}.o \
  $(for q in "${QUANT[@]}"; do echo "$OUT/${q%%:*}.o"; done) -lpthread -o "$OUT/int4_neon"
echo "check-neon: int4 ref and neon paths; running under $QEMU -cpu max"
"$QEMU" -cpu max -L "$SYSROOT" "$OUT/int4_neon" "$@"
