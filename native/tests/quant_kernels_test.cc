// Native check of native/quant: every kernel path this CPU runs (and qemu-emulated NEON)
// against the reference path, bit for bit, on random data with ties, NaN/±Inf, −0, subnormals.
// Call RunQuantKernelTests() from a harness, or build standalone with -DTFJQ_QUANT_TEST_MAIN:
//   aarch64-linux-gnu-g++ -std=c++17 -O2 -ffp-contract=off -static -DTFJQ_QUANT_TEST_MAIN -Inative
//     native/tests/quant_kernels_test.cc native/quant/quantize{,_ref,_neon}.cc native/common/*.cc
//     -lpthread -o /tmp/qk
//   qemu-aarch64-static /tmp/qk
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "common/cpu.h"
#include "quant/quantize.h"

namespace {

using namespace tfjq;
using namespace tfjq::quant;

int g_failures = 0;

template <typename T>
void Expect(const std::vector<T>& want, const std::vector<T>& got, const char* what, Isa isa) {
  if (want.size() != got.size() || std::memcmp(want.data(), got.data(), want.size() * sizeof(T)) != 0) {
    size_t i = 0;
    while (i < want.size() && std::memcmp(&want[i], &got[i], sizeof(T)) == 0) i++;
    std::printf("FAIL %s on %s at %zu\n", what, IsaName(isa), i);
    g_failures++;
  }
}

std::vector<float> Data(std::mt19937& rng, size_t n, float scale) {
  const float specials[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 1e-45f, -1e-45f, 1e-40f, 3.4e38f, -3.4e38f};
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> x(n);
  for (auto& v : x) {
    const float p = u(rng);
    const int k = static_cast<int>(u(rng) * 300) - 150;
    if (p < 0.3f)
      v = (k + 0.5f) * scale;
    else if (p < 0.35f)
      v = specials[rng() % 10];
    else
      v = (u(rng) * 300 - 150) * scale;
  }
  return x;
}

// Runs fn(ref) and fn(isa) for each supported isa; fn returns the bytes it produced.
template <typename F>
void Compare(const char* what, F fn) {
  SetActiveIsa(Isa::kRef);
  auto want = fn();
  for (Isa isa : SupportedIsas()) {
    if (isa == Isa::kRef) continue;
    SetActiveIsa(isa);
    Expect(want, fn(), what, isa);
  }
  SetActiveIsa(Isa::kRef);
}

template <typename T>
std::vector<uint8_t> AsBytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

}  // namespace

int RunQuantKernelTests() {
  g_failures = 0;
  std::mt19937 rng(42);
  const Layout layouts[] = {{1, 1, 1},  {1, 1, 37},  {1, 1, 100003}, {7, 5, 3},
                            {3, 9, 40}, {50, 64, 1}, {2, 3, 1},      {300, 7, 50}};
  for (const Layout& l : layouts) {
    const size_t n = static_cast<size_t>(l.size()), C = static_cast<size_t>(l.channels);
    const auto x = Data(rng, n, 0.25f);
    std::vector<float> s(C), m(C);
    std::vector<int32_t> z8(C), zu(C), z32(C), zi8(C);
    for (size_t c = 0; c < C; c++) {
      s[c] = c % 2 ? 0.25f : 0.01f + 0.1f * static_cast<float>(rng() % 1000) / 1000;
      m[c] = 1e-4f + static_cast<float>(rng() % 1000) * 1e-5f;
      z8[c] = static_cast<int32_t>(rng() % 40) - 20;
      zu[c] = static_cast<int32_t>(rng() % 256);
      z32[c] = static_cast<int32_t>(rng());
      zi8[c] = static_cast<int32_t>(rng() % 256) - 128;
    }
    std::vector<int32_t> acc(n);
    for (auto& a : acc) a = static_cast<int32_t>(rng()) >> (rng() % 24);
    std::vector<int8_t> q8(n);
    std::vector<uint8_t> qu(n);
    Compare("quantize s8", [&] {
      std::vector<int8_t> o(n);
      Quantize(x.data(), l, s.data(), z8.data(), -127, 127, o.data());
      q8 = o;
      return AsBytes(o);
    });
    Compare("quantize u8", [&] {
      std::vector<uint8_t> o(n);
      Quantize(x.data(), l, s.data(), zu.data(), 0, 255, o.data());
      qu = o;
      return AsBytes(o);
    });
    Compare("dequantize s8", [&] {
      std::vector<float> o(n);
      Dequantize(q8.data(), l, s.data(), z8.data(), o.data());
      return AsBytes(o);
    });
    Compare("dequantize u8", [&] {
      std::vector<float> o(n);
      Dequantize(qu.data(), l, s.data(), zu.data(), o.data());
      return AsBytes(o);
    });
    Compare("dequantize s32", [&] {
      std::vector<float> o(n);
      Dequantize(acc.data(), l, s.data(), z32.data(), o.data());
      return AsBytes(o);
    });
    Compare("requantize s32->s8", [&] {
      std::vector<int8_t> o(n);
      Requantize(acc.data(), l, m.data(), -3, -100, 120, o.data());
      return AsBytes(o);
    });
    Compare("requantize s32->u8", [&] {
      std::vector<uint8_t> o(n);
      Requantize(acc.data(), l, m.data(), 128, 128, 255, o.data());
      return AsBytes(o);
    });
    Compare("requantize s8->u8", [&] {
      std::vector<uint8_t> o(n);
      Requantize(q8.data(), l, s.data(), zi8.data(), 5, 0, 255, o.data());
      return AsBytes(o);
    });
    Compare("requantize u8->s8", [&] {
      std::vector<int8_t> o(n);
      Requantize(qu.data(), l, s.data(), zu.data(), -5, -128, 127, o.data());
      return AsBytes(o);
    });
    Compare("requantize s8->s8", [&] {
      std::vector<int8_t> o(n);
      Requantize(q8.data(), l, s.data(), zi8.data(), 0, -128, 127, o.data());
      return AsBytes(o);
    });
    Compare("requantize u8->u8", [&] {
      std::vector<uint8_t> o(n);
      Requantize(qu.data(), l, s.data(), zu.data(), 0, 0, 255, o.data());
      return AsBytes(o);
    });
    Compare("channel minmax", [&] {
      std::vector<float> lo(C), hi(C);
      ChannelMinMax(x.data(), l, lo.data(), hi.data());
      lo.insert(lo.end(), hi.begin(), hi.end());
      return AsBytes(lo);
    });
    Compare("dynamic per row", [&] {
      const int64_t rows = l.outer * l.channels, k = l.inner;
      std::vector<uint8_t> o(n);
      std::vector<float> sc(rows);
      std::vector<int32_t> zp(rows);
      DynamicQuantizeU8(x.data(), rows, k, k, true, o.data(), sc.data(), zp.data(), 0);
      auto b = AsBytes(sc);
      b.insert(b.end(), o.begin(), o.end());
      return b;
    });
  }
  // float16: every half pattern, and random float32 bit patterns (NaN payloads included).
  std::vector<uint16_t> halves(65536);
  for (int i = 0; i < 65536; i++) halves[i] = static_cast<uint16_t>(i);
  Compare("float16 -> float32", [&] {
    std::vector<float> o(65536);
    HalfToFloat(halves.data(), 65536, o.data());
    return AsBytes(o);
  });
  std::vector<uint32_t> bits(1 << 20);
  for (auto& b : bits) b = static_cast<uint32_t>(rng());
  for (int i = 0; i < 65536; i++) {
    float f = HalfToFloatScalar(static_cast<uint16_t>(i));
    std::memcpy(&bits[i], &f, 4);
    bits[i] += (i & 3) - 1;
  }
  Compare("float32 -> float16", [&] {
    std::vector<uint16_t> o(bits.size());
    FloatToHalf(reinterpret_cast<const float*>(bits.data()), static_cast<int64_t>(bits.size()), o.data());
    return AsBytes(o);
  });
  std::printf("quant kernel tests: %d failure(s); paths:", g_failures);
  for (Isa isa : SupportedIsas()) std::printf(" %s", IsaName(isa));
  std::printf("\n");
  return g_failures;
}

#ifdef TFJQ_QUANT_TEST_MAIN
int main() { return RunQuantKernelTests() == 0 ? 0 : 1; }
#endif
