// Session: plan validation, liveness-based arena layout, arena pool and the run loop.
// The steps themselves: steps.cc (the registry of step_schema.h) and steps/*.cc (one file per family).
#include "runtime/session.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/fp_mode.h"
#include "runtime/steps.h"

namespace tfjq {
namespace runtime {

size_t DTypeSize(DType t) {
  switch (t) {
    case DType::kF32:
      return 4;
    case DType::kI8:
      return 1;
    case DType::kU8:
      return 1;
    case DType::kI32:
      return 4;
  }
  return 1;
}

namespace {
[[noreturn]] void Bad(const std::string& m) { throw std::invalid_argument(m); }
constexpr size_t kAlign = 64;
size_t AlignUp(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }
}  // namespace

Session::Session(PlanSpec plan, int threads) : plan_(std::move(plan)), threads_(threads) {
  const int nb = static_cast<int>(plan_.buffers.size());
  if (threads_ < 0 || threads_ > 256) Bad("threads must be in [0, 256]");
  for (int i = 0; i < nb; i++) {
    const BufferSpec& b = plan_.buffers[static_cast<size_t>(i)];
    const std::string name = "buffers[" + std::to_string(i) + "]";
    if (b.shape.size() > 6) Bad(name + ": rank above 6");
    for (size_t d = 0; d < b.shape.size(); d++) {
      const int64_t v = b.shape[d];
      if (v < 0 && !(d == 0 && v == -1))
        Bad(name + ": dimension " + std::to_string(d) + " must be >= 0 (-1 only for the batch)");
      if (v > (int64_t{1} << 31)) Bad(name + ": dimension too large");
    }
    if (b.const_index >= 0) {
      if (b.const_index >= static_cast<int>(plan_.weights.size())) Bad(name + ": constIndex out of range");
      if (!b.shape.empty() && b.shape[0] == -1) Bad(name + ": a constant has no batch dimension");
      const WeightSpec& w = plan_.weights[static_cast<size_t>(b.const_index)];
      if (w.dtype != b.dtype) Bad(name + ": dtype differs from its constant's");
      if (w.length() != Elements(i, 1))
        Bad(name + ": constant has " + std::to_string(w.length()) + " elements, shape needs " +
            std::to_string(Elements(i, 1)));
    } else if (b.const_index != -1) {
      Bad(name + ": constIndex must be -1 or a weight index");
    }
    int64_t e = 1;
    for (int64_t v : b.shape) {
      if (v > 0 && e > (int64_t{1} << 40) / v) Bad(name + ": too many elements");
      e *= v < 0 ? 1 : v;
    }
  }
  auto check_ids = [&](const std::vector<int>& ids, const std::string& what) {
    for (int id : ids)
      if (id < 0 || id >= nb) Bad(what + ": buffer id " + std::to_string(id) + " out of range");
  };
  check_ids(plan_.inputs, "inputs");
  check_ids(plan_.outputs, "outputs");
  for (int id : plan_.inputs) {
    if (plan_.buffers[static_cast<size_t>(id)].const_index >= 0) Bad("inputs: a constant cannot be an input");
    const auto& s = plan_.buffers[static_cast<size_t>(id)].shape;
    if (!s.empty() && s[0] == -1) batched_ = true;
  }
  {
    std::vector<int> sorted = plan_.inputs;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) Bad("inputs: a buffer is listed twice");
  }
  for (size_t w = 0; w < plan_.weights.size(); w++) weight_bytes_ += plan_.weights[w].bytes.size();

  // Steps, and which buffers are written before being read.
  std::vector<char> defined(static_cast<size_t>(nb), 0);
  for (int id = 0; id < nb; id++)
    if (plan_.buffers[static_cast<size_t>(id)].const_index >= 0) defined[static_cast<size_t>(id)] = 1;
  for (int id : plan_.inputs) defined[static_cast<size_t>(id)] = 1;
  first_.assign(static_cast<size_t>(nb), -2);
  last_.assign(static_cast<size_t>(nb), -2);
  for (int id : plan_.inputs) first_[static_cast<size_t>(id)] = -1;
  const int ns = static_cast<int>(plan_.steps.size());
  for (int si = 0; si < ns; si++) {
    const StepSpec& s = plan_.steps[static_cast<size_t>(si)];
    const std::string where = "steps[" + std::to_string(si) + "] (" + s.op + ")";
    check_ids(s.inputs, where + " inputs");
    check_ids(s.outputs, where + " outputs");
    check_ids(s.temps, where + " temps");
    for (int w : s.weights)
      if (w < -1 || w >= static_cast<int>(plan_.weights.size())) Bad(where + ": weight index out of range");
    for (int id : s.inputs) {
      if (!defined[static_cast<size_t>(id)])
        Bad(where + ": reads buffer " + std::to_string(id) + " before it is written");
    }
    std::vector<int> written = s.outputs;
    written.insert(written.end(), s.temps.begin(), s.temps.end());
    for (int id : written) {
      if (plan_.buffers[static_cast<size_t>(id)].const_index >= 0) Bad(where + ": writes a constant buffer");
      if (std::find(s.inputs.begin(), s.inputs.end(), id) != s.inputs.end())
        Bad(where + ": buffer " + std::to_string(id) + " is both read and written (outputs must not overlap inputs)");
      if (std::count(written.begin(), written.end(), id) > 1)
        Bad(where + ": buffer " + std::to_string(id) + " written twice");
      if (defined[static_cast<size_t>(id)] && std::find(s.temps.begin(), s.temps.end(), id) == s.temps.end()) {
        Bad(where + ": buffer " + std::to_string(id) + " is written twice in the plan");
      }
    }
    for (int id : s.outputs) defined[static_cast<size_t>(id)] = 1;
    for (int id : s.inputs) last_[static_cast<size_t>(id)] = si;
    for (int id : written) {
      if (first_[static_cast<size_t>(id)] == -2) first_[static_cast<size_t>(id)] = si;
      last_[static_cast<size_t>(id)] = std::max(last_[static_cast<size_t>(id)], si);
    }
    std::unique_ptr<Step> st;
    try {
      st = MakeStep(s, *this);
    } catch (const std::invalid_argument& e) {
      Bad(where + ": " + e.what());
    }
    st->inputs = s.inputs;
    st->outputs = s.outputs;
    st->temps = s.temps;
    weight_bytes_ += st->OwnedBytes();
    steps_.push_back(std::move(st));
    step_ops_.push_back(s.op);
  }
  // Weights only ever read through their packed form are dropped from the plan: the session
  // holds them once, packed.
  {
    std::vector<int> uses(plan_.weights.size(), 0), packed(plan_.weights.size(), 0);
    for (const auto& b : plan_.buffers)
      if (b.const_index >= 0) uses[static_cast<size_t>(b.const_index)]++;
    for (const auto& st : plan_.steps)
      for (int w : st.weights)
        if (w >= 0) uses[static_cast<size_t>(w)]++;
    for (const auto& st : steps_)
      for (int w : st->PackedWeights()) packed[static_cast<size_t>(w)]++;
    for (size_t w = 0; w < plan_.weights.size(); w++) {
      if (packed[w] > 0 && packed[w] == uses[w]) {
        weight_bytes_ -= plan_.weights[w].bytes.size();
        std::vector<uint8_t>().swap(plan_.weights[w].bytes);
      }
    }
  }
  for (int id : plan_.outputs) {
    if (!defined[static_cast<size_t>(id)]) Bad("outputs: buffer " + std::to_string(id) + " is never written");
    last_[static_cast<size_t>(id)] = ns;
    if (first_[static_cast<size_t>(id)] == -2) first_[static_cast<size_t>(id)] = -1;
  }
  for (int id : plan_.inputs) last_[static_cast<size_t>(id)] = std::max(last_[static_cast<size_t>(id)], 0);
  external_.assign(static_cast<size_t>(nb), 0);
  for (int id : plan_.inputs) external_[static_cast<size_t>(id)] = 1;
  for (int id : plan_.outputs) external_[static_cast<size_t>(id)] = 1;
}

Session::~Session() = default;

int64_t Session::Elements(int id, int64_t batch) const {
  int64_t e = 1;
  for (int64_t v : plan_.buffers[static_cast<size_t>(id)].shape) e *= v < 0 ? batch : v;
  return e;
}

std::vector<int64_t> Session::Shape(int id, int64_t batch) const {
  std::vector<int64_t> s = plan_.buffers[static_cast<size_t>(id)].shape;
  if (!s.empty() && s[0] < 0) s[0] = batch;
  return s;
}

// First fit, largest buffers first, against the already placed buffers whose lifetimes
// intersect: buffers never live at the same time may share bytes.
void Session::Layout(Arena* a, int64_t batch) const {
  const size_t nb = plan_.buffers.size();
  std::vector<size_t> size(nb, 0);
  std::vector<int> order;
  for (size_t i = 0; i < nb; i++) {
    if (plan_.buffers[i].const_index >= 0 || first_[i] == -2 || external_[i]) continue;
    size[i] = AlignUp(static_cast<size_t>(Elements(static_cast<int>(i), batch)) * DTypeSize(plan_.buffers[i].dtype));
    order.push_back(static_cast<int>(i));
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](int x, int y) { return size[static_cast<size_t>(x)] > size[static_cast<size_t>(y)]; });
  a->offsets.assign(nb, 0);
  std::vector<int> placed;
  size_t total = 0;
  for (int b : order) {
    std::vector<std::pair<size_t, size_t>> busy;
    for (int p : placed) {
      if (first_[static_cast<size_t>(p)] <= last_[static_cast<size_t>(b)] &&
          first_[static_cast<size_t>(b)] <= last_[static_cast<size_t>(p)]) {
        busy.emplace_back(a->offsets[static_cast<size_t>(p)],
                          a->offsets[static_cast<size_t>(p)] + size[static_cast<size_t>(p)]);
      }
    }
    std::sort(busy.begin(), busy.end());
    size_t off = 0;
    for (auto& r : busy) {
      if (off + size[static_cast<size_t>(b)] <= r.first) break;
      off = std::max(off, r.second);
    }
    a->offsets[static_cast<size_t>(b)] = off;
    total = std::max(total, off + size[static_cast<size_t>(b)]);
    placed.push_back(b);
  }
  if (total > a->memory.size()) a->memory.Reset(total);
  a->bytes = a->memory.size();
  a->batch = batch;
}

void Session::SetProfiling(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  profiling_.store(on);
  step_seconds_.assign(steps_.size(), 0.0);
}

std::vector<double> Session::StepSeconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return step_seconds_;
}

std::unique_ptr<Arena> Session::Acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!free_.empty()) {
    auto a = std::move(free_.back());
    free_.pop_back();
    return a;
  }
  return std::make_unique<Arena>();
}

void Session::Release(std::unique_ptr<Arena> a) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(std::move(a));
}

size_t Session::arena_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return arena_total_;
}

void Session::Run(int64_t batch, const std::vector<const void*>& inputs, const std::vector<void*>& outputs) {
  if (batch < 1 || batch > (int64_t{1} << 24)) Bad("batch must be in [1, 2^24]");
  if (inputs.size() != plan_.inputs.size()) Bad("wrong number of inputs");
  if (outputs.size() != plan_.outputs.size()) Bad("wrong number of outputs");
  // Denormals flushed to zero for the run (common/fp_mode.h), restored when it returns or throws.
  ScopedFpMode fp_mode(FlushDenormalsMode());
  std::unique_ptr<Arena> a = Acquire();
  struct Returner {
    Session* s;
    std::unique_ptr<Arena>* a;
    ~Returner() { s->Release(std::move(*a)); }
  } returner{this, &a};
  if (a->batch != batch) {
    const size_t before = a->memory.size();
    Layout(a.get(), batch);
    std::lock_guard<std::mutex> lock(mu_);
    arena_total_ += a->memory.size() - before;
  }
  RunContext c{this, batch, threads_, {}};
  c.arena = a.get();
  const size_t scratch_before = a->scratch.size();
  c.ptr.assign(plan_.buffers.size(), nullptr);
  for (size_t i = 0; i < plan_.buffers.size(); i++) {
    const BufferSpec& b = plan_.buffers[i];
    if (b.const_index >= 0) {
      c.ptr[i] = const_cast<uint8_t*>(plan_.weights[static_cast<size_t>(b.const_index)].bytes.data());
    } else if (first_[i] != -2 && !external_[i]) {
      c.ptr[i] = a->memory.data() + a->offsets[i];
    }
  }
  // Inputs are only read by the steps (validated: never written); outputs are written in place.
  for (size_t i = 0; i < inputs.size(); i++)
    c.ptr[static_cast<size_t>(plan_.inputs[i])] = static_cast<uint8_t*>(const_cast<void*>(inputs[i]));
  std::vector<size_t> repeated;  // an output buffer listed twice: later slots get a copy
  for (size_t i = 0; i < outputs.size(); i++) {
    uint8_t*& p = c.ptr[static_cast<size_t>(plan_.outputs[i])];
    if (p == nullptr)
      p = static_cast<uint8_t*>(outputs[i]);
    else
      repeated.push_back(i);
  }
  if (!profiling_.load(std::memory_order_relaxed)) {
    for (const auto& s : steps_) s->Run(c);
  } else {
    std::vector<double> t(steps_.size());
    for (size_t i = 0; i < steps_.size(); i++) {
      const auto t0 = std::chrono::steady_clock::now();
      steps_[i]->Run(c);
      t[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (step_seconds_.size() != t.size()) step_seconds_.assign(t.size(), 0.0);
    for (size_t i = 0; i < t.size(); i++) step_seconds_[i] += t[i];
  }
  if (a->scratch.size() != scratch_before) {
    std::lock_guard<std::mutex> lock(mu_);
    arena_total_ += a->scratch.size() - scratch_before;
  }
  for (size_t i : repeated) {
    const int id = plan_.outputs[i];
    const size_t n = static_cast<size_t>(Elements(id, batch)) * DTypeSize(plan_.buffers[static_cast<size_t>(id)].dtype);
    if (n) std::memcpy(outputs[i], c.ptr[static_cast<size_t>(id)], n);
  }
}

}  // namespace runtime
}  // namespace tfjq
