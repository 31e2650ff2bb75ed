// Native test harness: each suite compares every compiled kernel path with the reference
// path and returns its number of failures.
#pragma once

namespace tfjq {
namespace tests {

// native/tests/gemm_tests.cc. Prints PASS/FAIL counts; `quick` shrinks the shape list.
int RunGemmTests(bool quick);
// native/tests/int4_tests.cc: every int4 path against the reference.
int RunInt4Tests(bool quick);

}  // namespace tests
}  // namespace tfjq

// native/tests/quant_kernels_test.cc
int RunQuantKernelTests();
