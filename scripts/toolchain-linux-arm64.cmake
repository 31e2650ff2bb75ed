# Cross build for linux-arm64 (glibc) on an x86-64 Debian/Ubuntu host with the distribution's
# cross compiler (apt-get install g++-aarch64-linux-gnu). Used by scripts/prebuildify-cmake.mjs
# when prebuildify is asked for --arch=arm64 on another architecture. CMAKE_SYSTEM_PROCESSOR
# makes CMakeLists.txt compile the NEON files (with their own per-file flags) and drop the x86 ones.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(TFJQ_CROSS_PREFIX aarch64-linux-gnu- CACHE STRING "prefix of the cross tools")
set(CMAKE_C_COMPILER ${TFJQ_CROSS_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${TFJQ_CROSS_PREFIX}g++)
set(CMAKE_STRIP ${TFJQ_CROSS_PREFIX}strip)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
