// Native check of the int4 kernels (native/gemm/gemm_int4*.cc): every compiled int4 path
// (AVX2 natively, NEON under qemu via scripts/check-neon.sh) against the reference path, bit
// for bit, on random shapes — M ∈ {1, 2, 5, 16, 33}, K not a multiple of the group or of the
// 8-value block, N not a multiple of the 8-column panel, group sizes 0/32/64/128, symmetric
// and asymmetric weights, float16-exact and arbitrary float32 scales, int8/uint8 activations,
// every activation, quantized + dynamic + weight-only entry points — and the nibble packing
// read back exhaustively over all 16 × 16 pairs of values sharing a byte.
//
// Standalone: build with -DTFJQ_INT4_TEST_MAIN; add -DTFJQ_INT4_TEST_NO_DYNAMIC when
// native/quant is not linked.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "gemm/gemm_int4.h"
#include "tests/harness.h"

namespace tfjq {
namespace tests {
namespace {

using namespace tfjq::gemm;

int g_pass = 0, g_fail = 0;

void Check(bool ok, const std::string& what) {
  if (ok) {
    g_pass++;
  } else {
    g_fail++;
    std::printf("FAIL %s\n", what.c_str());
  }
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b, size_t* at) {
  for (size_t i = 0; i < a.size(); i++) {
    if (std::memcmp(&a[i], &b[i], 4) != 0) {
      *at = i;
      return false;
    }
  }
  return true;
}

std::vector<Isa> FastPaths() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kAvx2, Isa::kNeon}) {
    if (Int4IsaUsable(isa)) out.push_back(isa);
  }
  return out;
}

struct Weights {
  int64_t k, n, g;
  std::vector<int8_t> w;
  std::vector<float> scales;
  std::vector<int32_t> zp;
};

// Scales: sk 0 arbitrary float32, 1 float16-exact, 2 double-quantized (code in [1, 255] × a
// per-column super-scale with 16 significant bits: PackInt4 stores them as 1-byte codes).
Weights MakeWeights(std::mt19937& rng, int64_t k, int64_t n, int64_t g, bool asym, int sk) {
  Weights w{k, n, g, {}, {}, {}};
  const int64_t groups = g == 0 || g >= k ? 1 : (k + g - 1) / g;
  std::uniform_int_distribution<int> v(-8, 7);
  w.w.resize(static_cast<size_t>(k * n));
  for (auto& x : w.w) x = static_cast<int8_t>(v(rng));
  std::uniform_real_distribution<float> s(0.001f, 0.05f);
  w.scales.resize(static_cast<size_t>(groups * n));
  // float16-exact scales: j · 2^-16 with j < 2^11 is an exact half (stored as float16).
  std::uniform_int_distribution<int> h(66, 2047);
  for (auto& x : w.scales) x = sk == 1 ? static_cast<float>(h(rng)) / 65536.0f : s(rng);
  if (sk == 2) {
    std::uniform_int_distribution<int> mant(32768, 65535), code(1, 255);
    for (int64_t j = 0; j < n; j++) {
      const float super = std::ldexp(static_cast<float>(mant(rng)), -30 + static_cast<int>(j % 5));
      for (int64_t gg = 0; gg < groups; gg++) w.scales[gg * n + j] = static_cast<float>(code(rng)) * super;
    }
  }
  if (asym) {
    w.zp.resize(w.scales.size());
    for (auto& z : w.zp) z = v(rng);
  }
  return w;
}

PackedInt4 Pack(const Weights& w, Isa isa) {
  return PackInt4(w.w.data(), w.k, w.n, BLayout::kKN, w.n, w.g, w.scales.data(), w.zp.empty() ? nullptr : w.zp.data(),
                  isa);
}

void PackingRoundTrip() {
  const int64_t k = 24, n = 256;
  std::vector<int8_t> w(static_cast<size_t>(k * n));
  // Column j: the pair ((j mod 16) − 8, ⌊j / 16⌋ − 8) in the low/high nibble rows, shifted by k.
  for (int64_t kk = 0; kk < k; kk++) {
    for (int64_t j = 0; j < n; j++) {
      const int base = (kk % 8) < 4 ? static_cast<int>(j % 16) : static_cast<int>(j / 16);
      w[static_cast<size_t>(kk * n + j)] = static_cast<int8_t>((base + kk) % 16 - 8);
    }
  }
  std::vector<float> sc(static_cast<size_t>(n), 1.0f);
  std::vector<Isa> paths = FastPaths();
  paths.push_back(Isa::kRef);
  for (Isa isa : paths) {
    PackedInt4 p = PackInt4(w.data(), k, n, BLayout::kKN, n, 0, sc.data(), nullptr, isa);
    bool ok = true;
    for (int64_t kk = 0; kk < k && ok; kk++)
      for (int64_t j = 0; j < n && ok; j++) ok = p.weight(kk, j) == w[static_cast<size_t>(kk * n + j)];
    Check(ok, std::string("pack/unpack all nibble pairs on ") + IsaName(isa));
  }
}

const Activation kActs[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kClamp};

void RandomShapes(bool quick) {
  std::mt19937 rng(1234);
  const std::vector<Isa> paths = FastPaths();
  if (paths.empty()) {
    std::printf("int4: no SIMD path compiled/usable here (reference only)\n");
    return;
  }
  const int reps = quick ? 3 : 8;
  for (int64_t m : {1, 2, 5, 16, 33}) {
    for (int rep = 0; rep < reps; rep++) {
      const int64_t g = std::vector<int64_t>{0, 32, 64, 128}[rep % 4];
      const int64_t k = rep == 5 ? 513 : std::uniform_int_distribution<int64_t>(1, 300)(rng);
      const int64_t n = std::vector<int64_t>{1, 7, 8, 13, 33, 70}[std::uniform_int_distribution<int>(0, 5)(rng)];
      const bool asym = rep % 2 == 1, a_signed = rep % 4 == 2;
      const int sk = rep % 3;
      Weights w = MakeWeights(rng, k, n, g, asym, sk);
      PackedInt4 ref = Pack(w, Isa::kRef);
      if (sk == 2)
        Check(ref.scale_kind() == PackedInt4::ScaleKind::kCode8,
              "int4: double-quantized scales packed as 1-byte codes");
      if (sk == 1)
        Check(ref.scale_kind() != PackedInt4::ScaleKind::kF32, "int4: float16 scales packed in 2 bytes or less");
      std::vector<uint8_t> a(static_cast<size_t>(m * k));
      for (auto& x : a)
        x = static_cast<uint8_t>(std::uniform_int_distribution<int>(0, 9)(rng) == 0 ? 255 : rng() & 255);
      std::vector<int32_t> za(static_cast<size_t>(m));
      std::vector<float> sa(static_cast<size_t>(m)), x(static_cast<size_t>(m * k)), bias(static_cast<size_t>(n));
      for (auto& z : za)
        z = a_signed ? std::uniform_int_distribution<int>(-128, 127)(rng)
                     : std::uniform_int_distribution<int>(0, 255)(rng);
      for (auto& s : sa) s = std::uniform_real_distribution<float>(0.001f, 0.1f)(rng);
      for (auto& v : x) v = std::uniform_real_distribution<float>(-4.0f, 4.0f)(rng);
      for (auto& v : bias) v = std::uniform_real_distribution<float>(-0.5f, 0.5f)(rng);
      Int4Output out;
      out.bias = rep % 3 == 0 ? nullptr : bias.data();
      out.activation = kActs[rep % 4];
      out.clamp_min = -0.5f;
      out.clamp_max = 0.75f;
      out.ldc = n;
      auto run = [&](const PackedInt4& b, int kind) {
        std::vector<float> c(static_cast<size_t>(m * n), -1.0f);
        Int4Output o = out;
        o.c = c.data();
        // Fields every entry point shares; float-input ones also take x.
        auto common = [&](auto& args) {
          args.m = m;
          args.b = &b;
          args.out = o;
        };
        auto float_in = [&](auto& args) {
          common(args);
          args.x = x.data();
          args.ldx = k;
        };
        if (kind == 0) {
          Int4GemmArgs args;
          common(args);
          args.a = a.data();
          args.a_signed = a_signed;
          args.lda = k;
          args.a_zero_points = za.data();
          args.a_zero_point_per_row = true;
          args.a_scales = sa.data();
          args.a_scale_per_row = true;
          GemmInt4(args);
        } else if (kind == 1) {
          WeightOnlyInt4Args args;
          float_in(args);
          WeightOnlyGemmInt4(args);
        } else {
#ifndef TFJQ_INT4_TEST_NO_DYNAMIC
          DynamicInt4Args args;
          float_in(args);
          args.per_row = rep % 2 == 0;
          DynamicGemmInt4(args);
#endif
        }
        return c;
      };
      for (int kind = 0; kind < 3; kind++) {
        const std::vector<float> want = run(ref, kind);
        for (Isa isa : paths) {
          PackedInt4 p = Pack(w, isa);
          const std::vector<float> got = run(p, kind);
          size_t at = 0;
          const bool ok = SameBits(got, want, &at);
          char what[256];
          std::snprintf(what, sizeof what, "%s %s m=%lld k=%lld n=%lld g=%lld %s %s%s", IsaName(isa),
                        kind == 0   ? "gemm"
                        : kind == 1 ? "weight-only"
                                    : "dynamic",
                        static_cast<long long>(m), static_cast<long long>(k), static_cast<long long>(n),
                        static_cast<long long>(g), asym ? "asym" : "sym",
                        sk == 0   ? "f32"
                        : sk == 1 ? "f16"
                                  : "code8",
                        ok ? ""
                           : (" first mismatch at " + std::to_string(at) + ": " + std::to_string(got[at]) + " vs " +
                              std::to_string(want[at]))
                                 .c_str());
          Check(ok, what);
        }
      }
    }
  }
}

}  // namespace

int RunInt4Tests(bool quick) {
  g_pass = g_fail = 0;
  PackingRoundTrip();
  RandomShapes(quick);
  std::printf("int4 tests: %d passed, %d failed\n", g_pass, g_fail);
  return g_fail;
}

}  // namespace tests
}  // namespace tfjq

#ifdef TFJQ_INT4_TEST_MAIN
int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  return tfjq::tests::RunInt4Tests(quick) == 0 ? 0 : 1;
}
#endif
