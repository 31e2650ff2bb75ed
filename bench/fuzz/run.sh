#!/usr/bin/env bash
# Fuzzes the byte decoders for minutes (the test suite runs bounded, seeded versions):
#   1. the native Deep Compression stream decoder, as a libFuzzer target when clang's
#      libFuzzer is installed, else with the standalone mutation driver (GCC), both under
#      AddressSanitizer + UndefinedBehaviorSanitizer;
#   2. the TypeScript readers (model.json + manifest + shards, the tfjs-quant format, .npy)
#      by seeded mutation (bench/fuzz/run.ts).
# Usage: bench/fuzz/run.sh [seconds per target, default 120]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-120}
work=$(mktemp -d /tmp/tfjq-fuzz.XXXXXX)
npx tsx bench/fuzz/corpus.ts "$work/corpus" >/dev/null
src=(native/fuzz/codec_fuzz.cc native/codec/decode.cc)
flags=(-std=c++17 -g -O1 -Inative -fno-omit-frame-pointer)
if command -v clang++ >/dev/null && echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long){return 0;}' \
    | clang++ -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  engine="libFuzzer (clang $(clang++ -dumpversion))"
  clang++ "${flags[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined "${src[@]}" -o "$work/codec_fuzz"
  mkdir -p "$work/live"
  log="$work/codec.log"
  "$work/codec_fuzz" -max_total_time="$secs" -print_final_stats=1 -timeout=5 -rss_limit_mb=2048 "$work/live" "$work/corpus" >"$log" 2>&1 || { tail -40 "$log"; exit 1; }
  tried=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
else
  engine="standalone mutation driver (g++ $(g++ -dumpversion))"
  g++ "${flags[@]}" -fsanitize=address,undefined -fno-sanitize-recover=undefined "${src[@]}" native/fuzz/fuzz_driver.cc -o "$work/codec_fuzz"
  tried=$("$work/codec_fuzz" "$secs" 1 "$work"/corpus/*.bin | grep -o '^[0-9]*')
fi
echo "| native Deep Compression decoder | $engine, ASan+UBSan | ${secs} s | $tried | 0 |"
npx tsx bench/fuzz/run.ts "$secs"
rm -rf "$work"
