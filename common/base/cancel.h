// cancel.h — long work yields to the engine's cancellation.
//
// PostgreSQL's own loops call CHECK_FOR_INTERRUPTS(); the core cannot (it
// may longjmp through C++ frames), so every core loop that can run long
// (JSON Schema evaluation, parsing, the SQL lexer, diffs, the migrator's
// and quality's loops) calls PollCancel(). It asks the check the adapter
// installed — PostgreSQL's reads the interrupt flags and calls nothing —
// and throws Error(kCanceled); the adapter's boundary then runs
// CHECK_FOR_INTERRUPTS() once the C++ frames are gone, which raises the
// real cancel or termination. SQLite 3.40 offers no way to ask whether a
// statement was interrupted, so there the check is absent (and bounding the
// work itself is the JSON Schema issue's).
#pragma once

namespace vigil::core {

// SetCancelCheck installs the process's check (nullptr: none). The check
// must be noexcept and must not call into the engine.
void SetCancelCheck(bool (*pending)() noexcept) noexcept;

// PollCancel throws Error(ErrorCode::kCanceled) when a cancel is pending.
void PollCancel();

}  // namespace vigil::core
