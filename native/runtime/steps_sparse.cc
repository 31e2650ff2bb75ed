// Sparse MatMul / 1×1 conv steps (layouts in steps_sparse.h). Validation is the dense step's:
// the dense step of the same parameters is built first (it checks every id, dtype, shape and
// weight), then kept as the fallback for large row counts (m_max >= 0) or dropped.
#include "runtime/steps_sparse.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "ops/ops.h"
#include "runtime/steps.h"
#include "sparse/sparse.h"
#include "float/gemm.h"

namespace tfjq {
namespace runtime {
namespace {

[[noreturn]] void Bad(const std::string& m) { throw std::invalid_argument(m); }

const WeightSpec* Weight(const StepSpec& s, const Session& ses, size_t slot) {
  if (slot >= s.weights.size() || s.weights[slot] < 0) return nullptr;
  return &ses.plan().weights[static_cast<size_t>(s.weights[slot])];
}

class SparseStep : public Step {
 public:
  SparseStep(const StepSpec& s, const Session& ses, bool q8, bool conv) : q8_(q8), conv_(conv) {
    if (s.ints.size() < 2) Bad("missing m_min, m_max");
    m_min_ = s.ints[s.ints.size() - 2];
    m_max_ = s.ints.back();
    if (m_min_ < 1 || m_min_ > (int64_t{1} << 31)) Bad("m_min must be in [1, 2^31]");
    if (m_max_ != -1 && (m_max_ < m_min_ || m_max_ > (int64_t{1} << 31))) Bad("m_max must be -1 or in [m_min, 2^31]");
    StepSpec dense = s;
    dense.op = std::string(conv ? "conv_" : "matmul_") + (q8 ? "i8" : "f32");
    dense.ints.resize(dense.ints.size() - 2);
    dense_ = MakeStep(dense, ses);  // validates everything (throws std::invalid_argument)
    dense_->inputs = s.inputs;
    dense_->outputs = s.outputs;
    dense_->temps = s.temps;
    const std::vector<int64_t>& in = dense.ints;
    size_t at = 0;
    if (conv) {
      // geom = [kh, kw, sh, sw, dh, dw, pt, pb, pl, pr]: only the direct (GEMM) form.
      if (in.size() < 10 || in[0] != 1 || in[1] != 1 || in[2] != 1 || in[3] != 1 || in[6] != 0 || in[7] != 0 ||
          in[8] != 0 || in[9] != 0) {
        Bad("sparse convolutions must be 1×1, stride 1, unpadded");
      }
      at = 10;
    }
    const std::vector<int64_t> xs = ses.Shape(s.inputs[0], 1), ys = ses.Shape(s.outputs[0], 1);
    k_ = xs.back();
    n_ = ys.back();
    const WeightSpec* w = Weight(s, ses, 0);
    if (q8_) {
      epi_.za = static_cast<int32_t>(in[at]);
      epi_.zo = static_cast<int32_t>(in[at + 1]);
      epi_.qmin = static_cast<int32_t>(in[at + 2]);
      epi_.qmax = static_cast<int32_t>(in[at + 3]);
      const WeightSpec* b = Weight(s, ses, 1);
      epi_.bias = b ? reinterpret_cast<const int32_t*>(b->bytes.data()) : nullptr;
      const WeightSpec* m = Weight(s, ses, 2);
      epi_.multipliers = reinterpret_cast<const float*>(m->bytes.data());
      epi_.per_channel = m->length() == n_ && n_ != 1;
      packed_ =
          sparse::PackI8(reinterpret_cast<const int8_t*>(w->bytes.data()), k_, n_, sparse::PackOptions{}, ActiveIsa());
    } else {
      act_ = static_cast<Activation>(in[at]);  // checked by the dense step
      alpha_ = static_cast<float>(s.floats[0]);
      const WeightSpec* b = Weight(s, ses, 1);
      bias_ = b ? reinterpret_cast<const float*>(b->bytes.data()) : nullptr;
      packed_ =
          sparse::PackF32(reinterpret_cast<const float*>(w->bytes.data()), k_, n_, sparse::PackOptions{}, ActiveIsa());
    }
    weight_index_ = s.weights[0];
    if (m_min_ == 1 && m_max_ < 0) dense_.reset();  // sparse for every row count
  }

  size_t OwnedBytes() const override { return packed_.byte_length() + (dense_ ? dense_->OwnedBytes() : 0); }
  // The plan's weight copy can go when only the sparse form (or the dense step's packed
  // int8 form) reads it; the dense float step reads the plan's array itself.
  std::vector<int> PackedWeights() const override {
    if (dense_ && !q8_) return {};
    return {weight_index_};
  }

  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const int64_t m = c.Elements(y) / n_;
    if (dense_ && (m < m_min_ || (m_max_ >= 0 && m > m_max_))) {
      dense_->Run(c);
      return;
    }
    if (q8_) {
      sparse::SpmmI8(packed_, c.P<int8_t>(x), k_, m, epi_, c.P<int8_t>(y), n_, c.threads);
      return;
    }
    float* out = c.P<float>(y);
    sparse::SpmmF32(packed_, c.P<float>(x), k_, m, out, n_, c.threads);
    // The dense float step's epilogue, unchanged.
    const bool simple = IsFloatGemmActivation(act_);
    if (bias_ || (simple && act_ != Activation::kLinear)) {
      f32::BiasActivation(out, m, n_, bias_, bias_ ? n_ : 0, simple ? act_ : Activation::kLinear, alpha_, c.threads);
    }
    if (!simple) ops::ActivationF32(act_, alpha_, out, m * n_, out, c.threads);
  }

 private:
  bool q8_, conv_;
  int64_t m_min_ = 1, m_max_ = -1, k_ = 0, n_ = 0;
  std::unique_ptr<Step> dense_;
  sparse::PackedSparse packed_;
  sparse::I8Epilogue epi_;
  Activation act_ = Activation::kLinear;
  float alpha_ = 0.2f;
  const float* bias_ = nullptr;
  int weight_index_ = -1;
};

}  // namespace

std::unique_ptr<Step> MakeSparseStep(const StepSpec& s, const Session& session) {
  if (s.op == "sparse_matmul_i8") return std::make_unique<SparseStep>(s, session, true, false);
  if (s.op == "sparse_conv_i8") return std::make_unique<SparseStep>(s, session, true, true);
  if (s.op == "sparse_matmul_f32") return std::make_unique<SparseStep>(s, session, false, false);
  if (s.op == "sparse_conv_f32") return std::make_unique<SparseStep>(s, session, false, true);
  Bad("unknown op '" + s.op + "'");
}

}  // namespace runtime
}  // namespace tfjq
