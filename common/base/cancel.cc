// cancel.cc — the installed cancellation check (see cancel.h).
#include "base/cancel.h"

#include <atomic>

#include "base/error.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

std::atomic<bool (*)() noexcept> check{nullptr};

}  // namespace

void SetCancelCheck(bool (*pending)() noexcept) noexcept { check.store(pending, std::memory_order_relaxed); }

void PollCancel() {
  auto pending = check.load(std::memory_order_relaxed);
  if (pending != nullptr && pending()) throw Error(ErrorCode::kCanceled, "canceling statement (vigil)");
}

}  // namespace vigil::core
