// The step kinds of a session plan (one per operator and data type), declared in step_schema.h.
#pragma once
#include <memory>

#include "runtime/session.h"

namespace tfjq {
namespace runtime {

// Validates a step against the session's buffers and weights (throws std::invalid_argument)
// and builds it (packing GEMM weights once).
std::unique_ptr<Step> MakeStep(const StepSpec& s, const Session& session);

}  // namespace runtime
}  // namespace tfjq
