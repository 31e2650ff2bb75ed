// The step registry: the kinds of step_schema.h by name, each with its factory and slot
// lists. MakeStep checks a spec's slot counts against the schema, then lets the kind's
// factory check the values (native/runtime/steps/*.cc, one file per family).
#include "runtime/steps.h"

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "runtime/step_schema.h"
#include "runtime/steps/factories.h"
#include "runtime/steps_sparse.h"

namespace tfjq {
namespace runtime {
namespace detail {

std::unique_ptr<Step> MakeSparse(const Spec& p) { return MakeSparseStep(p.s, p.ses); }

}  // namespace detail

namespace {

using detail::Bad;

struct StepKind {
  detail::StepFactory factory;
  const char* inputs;
  const char* temps;
  const char* ints;
  const char* floats;
  const char* weights;
};

// How many values a slot list takes: [min, max] (max = SIZE_MAX when a name repeats by a
// count the spec carries: name[rank], name[n], name...).
struct Count {
  size_t min = 0, max = 0;
};

Count CountOf(const std::string& list) {
  Count c;
  size_t i = 0;
  while (i < list.size()) {
    size_t j = list.find(' ', i);
    if (j == std::string::npos) j = list.size();
    const std::string tok = list.substr(i, j - i);
    i = j + 1;
    if (tok.empty()) continue;
    const size_t br = tok.find('[');
    if (tok.size() > 3 && tok.compare(tok.size() - 3, 3, "...") == 0) {
      c.max = SIZE_MAX;
    } else if (br != std::string::npos) {
      const std::string n = tok.substr(br + 1, tok.size() - br - 2);
      if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos) {
        c.min += std::stoul(n);
        if (c.max != SIZE_MAX) c.max += std::stoul(n);
      } else {
        c.max = SIZE_MAX;
      }
    } else if (tok.back() == '?') {
      if (c.max != SIZE_MAX) c.max += 1;  // an optional temp may be left out
    } else {
      c.min += 1;
      if (c.max != SIZE_MAX) c.max += 1;
    }
  }
  return c;
}

void CheckCount(const char* list, size_t got, const char* what, bool optional_counts) {
  Count c = CountOf(list);
  // Weights carry their optional slots (as -1): the optional ones count as required.
  if (optional_counts) c.min = c.max == SIZE_MAX ? c.min : c.max;
  if (got < c.min || got > c.max) {
    std::string want = c.min == c.max      ? std::to_string(c.min)
                       : c.max == SIZE_MAX ? "at least " + std::to_string(c.min)
                                           : std::to_string(c.min) + " to " + std::to_string(c.max);
    Bad(std::string("expects ") + want + " " + what + ", got " + std::to_string(got));
  }
}

const std::unordered_map<std::string, StepKind>& Registry() {
  static const std::unordered_map<std::string, StepKind> kinds = {
#define TFJQ_REGISTER_STEP(name, factory, inputs, temps, ints, floats, weights) \
  {#name, {&detail::factory, inputs, temps, ints, floats, weights}},
      TFJQ_RUNTIME_STEPS(TFJQ_REGISTER_STEP)
#undef TFJQ_REGISTER_STEP
  };
  return kinds;
}

}  // namespace

std::unique_ptr<Step> MakeStep(const StepSpec& s, const Session& session) {
  const auto& kinds = Registry();
  const auto it = kinds.find(s.op);
  if (it == kinds.end()) Bad("unknown op '" + s.op + "'");
  const StepKind& k = it->second;
  CheckCount(k.inputs, s.inputs.size(), "inputs", false);
  if (s.outputs.size() != 1) Bad("expects 1 outputs");
  CheckCount(k.temps, s.temps.size(), "temporary buffers", false);
  CheckCount(k.ints, s.ints.size(), "int parameters", false);
  CheckCount(k.floats, s.floats.size(), "float parameters", false);
  CheckCount(k.weights, s.weights.size(), "weights", true);
  return k.factory(detail::Spec{s, session});
}

}  // namespace runtime
}  // namespace tfjq
