#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ and
# runs the native-facing tests against it (Node itself is not instrumented, so the ASan
# runtime is preloaded). Usage: scripts/sanitize.sh [vitest file filters...]
set -euo pipefail
cd "$(dirname "$0")/.."
npx cmake-js build -O build-asan --debug --CDTFJQ_SANITIZE=ON >/tmp/tfjq-asan-build.log 2>&1 || {
  tail -40 /tmp/tfjq-asan-build.log; exit 1; }
addon=$(ls build-asan/Debug/tfjs_quant.node build-asan/Release/tfjs_quant.node 2>/dev/null | head -1 || true)
asan=$(g++ -print-file-name=libasan.so)
ubsan=$(g++ -print-file-name=libubsan.so)
echo "sanitizer build: $addon (preloading $asan)"
# Node and V8 keep allocations alive until exit: leak checking is done by the soak scripts.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TFJS_QUANT_ADDON="$PWD/$addon" NO_COLOR=1
filters=("$@")
[ ${#filters[@]} -eq 0 ] && filters=(test/core.test.ts test/gemm test/quantize test/float16 test/compress test/train test/ops test/runtime)
existing=()
for f in "${filters[@]}"; do compgen -G "${f}*" >/dev/null && existing+=("$f"); done
# Instrumented debug code runs several times slower: allow long tests.
LD_PRELOAD="$asan:$ubsan" npx vitest run --testTimeout=600000 --hookTimeout=600000 "${existing[@]}"
