// The standalone native test binary (CMake -DTFJQ_NATIVE_TESTS=ON): runs every suite.
#include <cstdio>
#include <cstring>

#include "tests/harness.h"

#if !defined(TFJQ_QUANT_TEST_MAIN) && !defined(TFJQ_GEMM_TEST_MAIN) && !defined(TFJQ_INT4_TEST_MAIN)
int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  int failures = 0;
  failures += tfjq::tests::RunGemmTests(quick);
  failures += RunQuantKernelTests();
  failures += tfjq::tests::RunInt4Tests(quick);
  std::printf("native tests: %s (%d failure(s))\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
#endif
