#!/usr/bin/env bash
# Emulated-ISA check of the GEMM kernels this machine cannot run: compiles
# native/gemm/gemm_avxvnni.cc and gemm_avx512vnni.cc WITHOUT their ISA flags on SIMDe
# (-DTFJQ_EMULATE_SIMD: portable implementations of the AVX2/AVX-512/VNNI intrinsics),
# links them with the real ref/AVX2 paths and the native harness, and compares every path
# with the reference bit for bit. Prints PASS/FAIL counts; exits non-zero on any mismatch,
# 77 when the toolchain is missing (skip).
#   scripts/check-emulated-isa.sh [--quick]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CXX=${CXX:-g++}
if [ "$(uname -m)" != "x86_64" ]; then echo "SKIP: not an x86-64 machine"; exit 77; fi
if [ ! -f /usr/include/simde/x86/avx512/dpbusd.h ]; then echo "SKIP: SIMDe headers (libsimde-dev) not found"; exit 77; fi
command -v "$CXX" >/dev/null || { echo "SKIP: $CXX not found"; exit 77; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/tfjq-emulated-isa.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
BASE=(-std=c++17 -O2 -Wno-psabi -ffp-contract=off -fno-fast-math -I"$ROOT/native" -DTFJQ_GEMM_ALLOW_UNSUPPORTED)
AVX2=(-mavx2 -mfma -mf16c -mbmi2)
if ! grep -q ' avx2 ' /proc/cpuinfo 2>/dev/null; then AVX2=(-DTFJQ_EMULATE_SIMD); fi
N=native
pids=()
build() { local out=$1; shift; "$CXX" "${BASE[@]}" "$@" -c -o "$OUT/$out.o" & pids+=($!); }
build cpu $N/common/cpu.cc
build pool $N/common/thread_pool.cc
build gemm $N/gemm/gemm.cc
build pack $N/gemm/pack.cc
build ref $N/gemm/gemm_ref.cc
build dyn $N/gemm/dynamic.cc
build quant $N/quant/quantize.cc
build quant_ref $N/quant/quantize_ref.cc
build quant_avx2 "${AVX2[@]}" $N/quant/quantize_avx2.cc
build quant_avx512 -DTFJQ_EMULATE_SIMD $N/quant/quantize_avx512vnni.cc
build avx2 "${AVX2[@]}" $N/gemm/gemm_avx2.cc
build epi_avx2 "${AVX2[@]}" $N/gemm/epilogue_avx2.cc
build avxvnni -DTFJQ_EMULATE_SIMD $N/gemm/gemm_avxvnni.cc
build avx512vnni -DTFJQ_EMULATE_SIMD $N/gemm/gemm_avx512vnni.cc
build epi_avx512 -DTFJQ_EMULATE_SIMD $N/gemm/epilogue_avx512vnni.cc
build tests -DTFJQ_GEMM_TEST_MAIN $N/tests/gemm_tests.cc
cd "$ROOT"
for p in "${pids[@]}"; do wait "$p"; done
"$CXX" "$OUT"/*.o -lpthread -o "$OUT/gemm_emulated"
echo "check-emulated-isa: avxvnni and avx512vnni kernels built on SIMDe (no ISA flags)"
"$OUT/gemm_emulated" "$@"
