// Whole-graph inference sessions: a flat plan compiled in TypeScript
// (src/runtime/plan.ts) is validated and turned into a list of steps over the operator
// kernels of native/gemm, native/quant, native/ops and native/float. Weights are packed once
// at creation; activations live in an arena whose layout comes from liveness analysis
// (buffers whose lifetimes do not overlap share bytes). A run executes every step in one
// call; concurrent runs each take their own arena from a pool.
//
// Plan model
// - Buffers: dtype + shape; shape[0] == -1 marks the free batch dimension (resolved per run),
//   any other shape is fixed. A buffer with const_index >= 0 is a constant (weights array) and
//   lives outside the arena.
// - Steps: an op name, input/output/temporary buffer ids, integer and float parameters and
//   weight indices; each op's slots are declared once in runtime/step_schema.h.
// - Session inputs are read in place from the caller's arrays and outputs written straight into
//   the caller's arrays (neither takes arena space).
// Every inconsistency (ids, dtypes, shapes, sizes, an output aliasing an input of its step)
// throws std::invalid_argument at creation; a run validates its batch size and lengths.
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"

namespace tfjq {
namespace runtime {

enum class DType : int { kF32 = 0, kI8 = 1, kU8 = 2, kI32 = 3 };
size_t DTypeSize(DType t);

struct BufferSpec {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // shape[0] == -1: batch
  int const_index = -1;        // >= 0: constant data from weights[const_index]
};

struct WeightSpec {
  DType dtype = DType::kF32;
  std::vector<uint8_t> bytes;  // copied at creation
  int64_t length() const { return static_cast<int64_t>(bytes.size() / DTypeSize(dtype)); }
};

struct StepSpec {
  std::string op;
  std::vector<int> inputs, outputs, temps;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<int> weights;  // -1 = absent (e.g. no bias)
};

struct PlanSpec {
  std::vector<BufferSpec> buffers;
  std::vector<WeightSpec> weights;
  std::vector<StepSpec> steps;
  std::vector<int> inputs, outputs;  // buffer ids
};

struct RunContext;

class Step {
 public:
  virtual ~Step() = default;
  virtual void Run(RunContext& c) const = 0;
  // Bytes of packed / converted weights this step owns (beyond the plan's weight arrays).
  virtual size_t OwnedBytes() const { return 0; }
  // Plan weight indices this step has packed into its own format (the plan's copy can go).
  virtual std::vector<int> PackedWeights() const { return {}; }
  std::vector<int> inputs, outputs, temps;
};

struct Arena {
  int64_t batch = -1;
  std::vector<size_t> offsets;  // per buffer (arena buffers only)
  AlignedBuffer memory;
  size_t bytes = 0;
  // Working memory a step asks for while it runs (RunContext::Scratch), kept with the arena so
  // that a run reuses the pages of the last one instead of faulting in fresh ones.
  AlignedBuffer scratch;
};

class Session {
 public:
  Session(PlanSpec plan, int threads);
  ~Session();

  // Elements of buffer `id` at this batch size.
  int64_t Elements(int id, int64_t batch) const;
  std::vector<int64_t> Shape(int id, int64_t batch) const;
  const PlanSpec& plan() const { return plan_; }
  // Whether the plan has a free batch dimension on its inputs.
  bool batched() const { return batched_; }

  // inputs[i]: pointer to plan.inputs[i]'s data (Elements(id, batch) elements);
  // outputs[i]: where to write plan.outputs[i]. Thread-safe.
  void Run(int64_t batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs);

  // Per-step timing (wall clock, summed over runs while enabled): for profiling a plan.
  void SetProfiling(bool on);
  std::vector<double> StepSeconds() const;
  const std::vector<std::string>& StepOps() const { return step_ops_; }

  size_t weight_bytes() const { return weight_bytes_; }
  size_t arena_bytes() const;
  int threads() const { return threads_; }

 private:
  friend struct RunContext;
  std::unique_ptr<Arena> Acquire();
  void Release(std::unique_ptr<Arena> a);
  void Layout(Arena* a, int64_t batch) const;

  PlanSpec plan_;
  int threads_ = 0;
  bool batched_ = false;
  std::vector<std::unique_ptr<Step>> steps_;
  std::vector<int> first_, last_;  // liveness per buffer (step indices)
  std::vector<char> external_;     // plan inputs / outputs: the caller's memory, not the arena
  size_t weight_bytes_ = 0;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Arena>> free_;
  size_t arena_total_ = 0;  // bytes of every arena (free or in use)
  std::atomic<bool> profiling_{false};
  std::vector<double> step_seconds_;
  std::vector<std::string> step_ops_;
};

struct RunContext {
  const Session* s;
  int64_t batch;
  int threads;
  std::vector<uint8_t*> ptr;  // per buffer
  template <typename T>
  T* P(int id) const {
    return reinterpret_cast<T*>(ptr[static_cast<size_t>(id)]);
  }
  std::vector<int64_t> Shape(int id) const { return s->Shape(id, batch); }
  int64_t Elements(int id) const { return s->Elements(id, batch); }
  Arena* arena = nullptr;
  // At least `count` values of working memory for the running step, 64-byte aligned, contents
  // unspecified. One region: a later call (this step's or the next step's) may move or reuse it.
  template <typename T>
  T* Scratch(size_t count) {
    const size_t bytes = count * sizeof(T);
    if (arena->scratch.size() < bytes) arena->scratch.Reset(bytes);
    return arena->scratch.as<T>();
  }
};

}  // namespace runtime
}  // namespace tfjq
