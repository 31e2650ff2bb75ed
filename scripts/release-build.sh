#!/bin/sh
# One release prebuild, on the machine or container it runs in (.github/workflows/release.yml):
# installs the build tools when it can (Alpine: apk; Debian/Ubuntu as root: apt-get), builds
# the addon with prebuildify into prebuilds/<platform>-<arch>/, then runs the whole test suite
# against that very file (node-gyp-build picks it; build/Release holds the same bytes for the
# tests that pack it). CROSS_ARM64_CHECK=1 also cross-builds linux-arm64 and proves it under
# qemu (scripts/check-arm64-prebuild.sh). POSIX sh: Alpine has no bash until it is installed.
set -eu
cd "$(dirname "$0")/.."

if command -v apk >/dev/null 2>&1; then
  apk add --no-cache cmake g++ make bash
elif command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update
  apt-get install -y --no-install-recommends cmake g++ make ${CROSS_ARM64_CHECK:+g++-aarch64-linux-gnu qemu-user-static}
fi

# Scripts off: the install hook would build the addon once more before prebuildify does.
npm ci --ignore-scripts
npm run build
TAG_LIBC=
[ "$(uname -s)" = Linux ] && TAG_LIBC=--tag-libc
npm run prebuildify -- $TAG_LIBC
ls -l prebuilds/*/
mkdir -p build/Release
cp prebuilds/*/*.node build/Release/tfjs_quant.node

npm test

if [ -n "${CROSS_ARM64_CHECK:-}" ]; then
  npm run prebuildify:linux-arm64
  status=0
  bash scripts/check-arm64-prebuild.sh || status=$?
  [ "$status" -eq 0 ] || [ "$status" -eq 77 ] || exit "$status"
  # Shipped linux-arm64 prebuilds come from the native arm64 jobs, which also run the suite.
  rm -rf prebuilds/linux-arm64
fi
