// Native check of native/gemm: every compiled kernel path (including SIMDe-emulated VNNI and
// qemu-emulated NEON builds) against the reference path, bit for bit, on random shapes
// (M = 1, K not a multiple of the K group / 16 / 64, N not a multiple of the panel, K beyond
// the cache block), every epilogue, per-tensor and per-row/per-column parameters, int8 and
// uint8 activations, and extremes (A ∈ {0, 255}, B ∈ {−128, −127, 127}, K = 65536).
//
// Standalone: build with -DTFJQ_GEMM_TEST_MAIN (scripts/check-emulated-isa.sh,
// scripts/check-neon.sh); add -DTFJQ_GEMM_TEST_NO_DYNAMIC when native/quant is not linked.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "gemm/gemm.h"
#include "tests/harness.h"

namespace tfjq {
namespace tests {
namespace {

using namespace tfjq::gemm;

int g_pass = 0, g_fail = 0;

std::vector<Isa> Paths() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (GemmIsaUsable(isa)) out.push_back(isa);
  }
  return out;
}

template <typename T>
bool SameBits(const std::vector<T>& a, const std::vector<T>& b, size_t* at) {
  for (size_t i = 0; i < a.size(); i++) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) {
      *at = i;
      return false;
    }
  }
  return true;
}

struct Case {
  int64_t m, k, n, lda, ldc;
  bool a_signed, kn, za_per_row, zb_per_col;
  std::vector<uint8_t> a;
  std::vector<int8_t> b;
  std::vector<int32_t> za, zb, bias;
  std::vector<float> mult, sa, sw, bias_f32;
};

Case MakeCase(std::mt19937& rng, int64_t m, int64_t k, int64_t n, int variant, bool extremes) {
  Case c;
  c.m = m;
  c.k = k;
  c.n = n;
  c.lda = k + (variant % 3 == 2 ? 5 : 0);
  c.ldc = n + (variant % 4 == 3 ? 3 : 0);
  c.a_signed = variant % 2 == 1;
  c.kn = variant % 3 != 1;
  c.za_per_row = variant % 4 >= 2;
  c.zb_per_col = variant % 5 == 4;
  std::uniform_int_distribution<int> byte(0, 255), coin(0, 2);
  c.a.resize(static_cast<size_t>((m - 1) * c.lda + k));
  for (auto& v : c.a) v = extremes ? (byte(rng) < 128 ? 0 : 255) : static_cast<uint8_t>(byte(rng));
  c.b.resize(static_cast<size_t>(k * n));
  const int8_t ext[3] = {-128, -127, 127};
  for (auto& v : c.b) v = extremes ? ext[coin(rng)] : static_cast<int8_t>(byte(rng) - 128);
  const int zlo = c.a_signed ? -128 : 0;
  auto za = [&] { return extremes ? (coin(rng) ? zlo + 255 : zlo) : zlo + byte(rng); };
  c.za.resize(c.za_per_row ? m : 1);
  for (auto& v : c.za) v = za();
  c.zb.resize(c.zb_per_col ? n : 1);
  for (auto& v : c.zb) v = c.zb_per_col ? byte(rng) - 128 : 0;
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  c.bias.resize(n);
  for (auto& v : c.bias) v = static_cast<int32_t>(rng() % 200001) - 100000;
  c.mult.resize(n);
  for (auto& v : c.mult) v = std::ldexp(1.0f + u(rng), -8 - static_cast<int>(rng() % 10));
  c.sa.resize(m);
  for (auto& v : c.sa) v = 0.01f + 0.05f * u(rng);
  c.sw.resize(n);
  for (auto& v : c.sw) v = 0.001f + 0.02f * u(rng);
  c.bias_f32.resize(n);
  for (auto& v : c.bias_f32) v = (u(rng) - 0.5f) * 50.0f;
  return c;
}

PackedB Pack(const Case& c, Isa isa) {
  return PackB(c.b.data(), c.k, c.n, c.kn ? BLayout::kKN : BLayout::kNK, c.kn ? c.n : c.k, c.zb.data(), c.zb_per_col,
               isa);
}

// One epilogue variant e (0..8) on packed weights; returns the output bytes.
std::vector<uint8_t> Run(const Case& c, const PackedB& p, int e, int threads) {
  GemmArgs g;
  g.m = c.m;
  g.a = c.a.data();
  g.a_signed = c.a_signed;
  g.lda = c.lda;
  g.a_zero_points = c.za.data();
  g.a_zero_point_per_row = c.za_per_row;
  g.b = &p;
  g.ldc = c.ldc;
  g.threads = threads;
  Epilogue& ep = g.epilogue;
  size_t elem = 4;
  switch (e) {
    case 0:
      break;
    case 1:
      ep.bias = c.bias.data();
      break;
    case 2:
      ep.output = OutputType::kInt8;
      ep.bias = c.bias.data();
      ep.multipliers = c.mult.data();
      ep.multiplier_per_channel = true;
      ep.out_zero_point = -3;
      elem = 1;
      break;
    case 3:
      ep.output = OutputType::kInt8;
      ep.multipliers = c.mult.data();
      ep.out_zero_point = 5;
      ep.qmin = -3;
      ep.qmax = 90;
      elem = 1;
      break;
    case 4:
      ep.output = OutputType::kUint8;
      ep.bias = c.bias.data();
      ep.multipliers = c.mult.data();
      ep.multiplier_per_channel = true;
      ep.out_zero_point = 128;
      ep.qmin = 128;
      ep.qmax = 255;
      elem = 1;
      break;
    case 5:
      ep.output = OutputType::kFloat32;
      ep.a_scales = c.sa.data();
      ep.a_scale_per_row = true;
      ep.w_scales = c.sw.data();
      break;
    case 6:
      ep.output = OutputType::kFloat32;
      ep.a_scales = c.sa.data();
      ep.w_scales = c.sw.data();
      ep.w_scale_per_channel = false;
      ep.bias_f32 = c.bias_f32.data();
      ep.activation = Activation::kRelu;
      break;
    case 7:
      ep.output = OutputType::kFloat32;
      ep.a_scales = c.sa.data();
      ep.a_scale_per_row = true;
      ep.w_scales = c.sw.data();
      ep.bias_f32 = c.bias_f32.data();
      ep.activation = Activation::kRelu6;
      break;
    default:
      ep.output = OutputType::kFloat32;
      ep.a_scales = c.sa.data();
      ep.a_scale_per_row = true;
      ep.w_scales = c.sw.data();
      ep.bias = c.bias.data();
      ep.activation = Activation::kClamp;
      ep.clamp_min = -2.5f;
      ep.clamp_max = 3.25f;
      break;
  }
  // Sentinel-filled output: the gaps of a strided C must stay untouched.
  std::vector<uint8_t> out(static_cast<size_t>(((c.m - 1) * c.ldc + c.n) * static_cast<int64_t>(elem)), 0xA5);
  g.c = out.data();
  Gemm(g);
  return out;
}

void Check(bool ok, const std::string& what) {
  if (ok) {
    g_pass++;
    return;
  }
  g_fail++;
  std::printf("FAIL %s\n", what.c_str());
}

std::string Describe(Isa isa, const Case& c, int e) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s m=%lld k=%lld n=%lld lda=%lld ldc=%lld %s %s za%s zb%s epilogue=%d", IsaName(isa),
                static_cast<long long>(c.m), static_cast<long long>(c.k), static_cast<long long>(c.n),
                static_cast<long long>(c.lda), static_cast<long long>(c.ldc), c.a_signed ? "int8" : "uint8",
                c.kn ? "kn" : "nk", c.za_per_row ? "/row" : "", c.zb_per_col ? "/col" : "", e);
  return buf;
}

void CompareCase(const Case& c, const std::vector<Isa>& paths, bool all_epilogues) {
  const PackedB ref = Pack(c, Isa::kRef);
  for (Isa isa : paths) {
    const PackedB p = Pack(c, isa);
    for (int e = 0; e < 9; e++) {
      if (!all_epilogues && e != 1 && e != 0) continue;
      const auto want = Run(c, ref, e, 1);
      for (int threads : {1, 2}) {
        const auto got = Run(c, p, e, threads);
        size_t at = 0;
        const bool ok = SameBits(got, want, &at);
        Check(ok, Describe(isa, c, e) + " threads=" + std::to_string(threads) +
                      (ok ? "" : " first difference at byte " + std::to_string(at)));
      }
    }
  }
}

#if !defined(TFJQ_GEMM_TEST_NO_DYNAMIC)
void CompareDynamic(std::mt19937& rng, const std::vector<Isa>& paths) {
  std::uniform_real_distribution<float> u(-3.0f, 5.0f);
  const int64_t shapes[][3] = {{1, 300, 50}, {11, 77, 33}, {40, 513, 70}};
  for (const auto& s : shapes) {
    const int64_t m = s[0], k = s[1], n = s[2];
    std::vector<float> x(static_cast<size_t>(m * k));
    for (auto& v : x) v = u(rng);
    x[1] = NAN;
    x[2] = INFINITY;
    x[static_cast<size_t>(k) - 1] = -INFINITY;
    std::vector<int8_t> b(static_cast<size_t>(k * n));
    for (auto& v : b) v = static_cast<int8_t>(rng() % 255 - 127);
    std::vector<float> sw(static_cast<size_t>(n)), bias(static_cast<size_t>(n));
    for (auto& v : sw) v = 0.001f + 0.001f * (rng() % 10);
    for (auto& v : bias) v = u(rng);
    const PackedB ref = PackB(b.data(), k, n, BLayout::kKN, n, nullptr, false, Isa::kRef);
    for (bool per_row : {true, false}) {
      auto run = [&](const PackedB& p) {
        std::vector<float> out(static_cast<size_t>(m * n));
        DynamicGemmArgs d;
        d.m = m;
        d.x = x.data();
        d.ldx = k;
        d.per_row = per_row;
        d.b = &p;
        d.w_scales = sw.data();
        d.bias_f32 = bias.data();
        d.activation = Activation::kRelu6;
        d.c = out.data();
        d.ldc = n;
        DynamicGemm(d);
        return out;
      };
      const auto want = run(ref);
      for (Isa isa : paths) {
        const PackedB p = PackB(b.data(), k, n, BLayout::kKN, n, nullptr, false, isa);
        size_t at = 0;
        Check(SameBits(run(p), want, &at),
              std::string(IsaName(isa)) + " dynamic m=" + std::to_string(m) + (per_row ? " per-row" : " per-tensor"));
      }
    }
  }
}
#endif

void CheckErrors() {
  const std::vector<int8_t> b(12, 1);
  auto throws = [](auto fn) {
    try {
      fn();
    } catch (const std::invalid_argument&) {
      return true;
    }
    return false;
  };
  Check(throws([&] { PackB(b.data(), 0, 12, BLayout::kKN, 12, nullptr, false, Isa::kRef); }), "k = 0 rejected");
  Check(throws([&] { PackB(b.data(), kMaxK + 1, 1, BLayout::kKN, 1, nullptr, false, Isa::kRef); }),
        "k > 65536 rejected");
  const PackedB p = PackB(b.data(), 3, 4, BLayout::kKN, 4, nullptr, false, Isa::kRef);
  std::vector<uint8_t> a(6);
  std::vector<int32_t> c(8);
  int32_t za = 300;
  GemmArgs g;
  g.m = 2;
  g.a = a.data();
  g.lda = 3;
  g.a_zero_points = &za;
  g.b = &p;
  g.c = c.data();
  g.ldc = 4;
  Check(throws([&] { Gemm(g); }), "za out of range rejected");
  za = 0;
  g.lda = 2;
  Check(throws([&] { Gemm(g); }), "lda < k rejected");
  g.lda = 3;
  g.epilogue.output = OutputType::kInt8;
  Check(throws([&] { Gemm(g); }), "missing multipliers rejected");
}

}  // namespace

int RunGemmTests(bool quick) {
  g_pass = g_fail = 0;
  const std::vector<Isa> paths = Paths();
  std::printf("gemm harness: paths compared with ref:");
  for (Isa isa : paths) std::printf(" %s", IsaName(isa));
  std::printf("%s\n", paths.empty() ? " (none: only ref is usable here)" : "");
  std::mt19937 rng(20240611);
  const int64_t shapes[][3] = {{1, 1, 1},
                               {1, 768, 77},
                               {1, 4099, 33},
                               {2, 3, 5},
                               {5, 17, 15},
                               {6, 64, 16},
                               {7, 129, 65},
                               {13, 1001, 70},
                               {16, 768, 130},
                               {25, 2500, 40},
                               {64, 27, 32},
                               {49, 300, 129},
                               {3, 7, 200},
                               {12, 1030, 64},
                               {100, 33, 97},
                               {1, 65, 1000},
                               // ≥ 1 M multiply-adds: 2 threads really split these (smaller calls run on the caller).
                               {100, 700, 200},
                               {1, 4096, 1100},
                               {37, 3000, 50}};
  int variant = 0;
  for (const auto& s : shapes) {
    if (quick && s[0] * s[1] * s[2] > 15000000) continue;
    CompareCase(MakeCase(rng, s[0], s[1], s[2], variant, false), paths, true);
    variant++;
  }
  // The driver's per-panel epilogue over whole row blocks (up to 48 rows, not multiples of
  // the 6-row tile) and the AVX2 column-blocked requantize / dequantize epilogues (one za
  // per call → precomputed column term; per-row za; zero weight zero points: variants 0–3),
  // with column tails of 1–15 and odd K-group counts for the 2-group kernel loop.
  const int64_t blocks[][3] = {{7, 1, 8}, {47, 33, 15}, {49, 27, 40}, {53, 16, 97}, {96, 3, 24}, {13, 1030, 17}};
  for (const auto& s : blocks) {
    for (int v = 0; v < 4; v++) CompareCase(MakeCase(rng, s[0], s[1], s[2], v, false), paths, true);
  }
  // Extremes, including K = 65536 (sums that overflow int32 and wrap identically).
  const int64_t ext[][3] = {{1, 4096, 40}, {9, 3001, 33}, {7, 65536, 5}};
  for (const auto& s : ext) {
    for (int v = 0; v < (quick ? 2 : 5); v++) CompareCase(MakeCase(rng, s[0], s[1], s[2], v, true), paths, v == 0);
  }
#if !defined(TFJQ_GEMM_TEST_NO_DYNAMIC)
  CompareDynamic(rng, paths);
#endif
  CheckErrors();
  for (Isa isa : paths) {
    const double gops = MeasurePeakGops(isa, 0.01);
    Check(gops > 0, std::string(IsaName(isa)) + " peak loop runs");
  }
  std::printf("gemm harness: PASS %d, FAIL %d\n", g_pass, g_fail);
  return g_fail;
}

}  // namespace tests
}  // namespace tfjq

#ifdef TFJQ_GEMM_TEST_MAIN
int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  return tfjq::tests::RunGemmTests(quick) == 0 ? 0 : 1;
}
#endif
