// One factory per step kind (declared from step_schema.h, defined in the family files): each
// validates a StepSpec against the session's buffers and weights (std::invalid_argument) and
// builds the step.
#pragma once
#include <memory>

#include "runtime/step_schema.h"
#include "runtime/steps/common.h"

namespace tfjq {
namespace runtime {
namespace detail {

using StepFactory = std::unique_ptr<Step> (*)(const Spec& p);

#define TFJQ_DECLARE_STEP_FACTORY(name, factory, inputs, temps, ints, floats, weights) \
  std::unique_ptr<Step> factory(const Spec& p);
TFJQ_RUNTIME_STEPS(TFJQ_DECLARE_STEP_FACTORY)
#undef TFJQ_DECLARE_STEP_FACTORY

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
