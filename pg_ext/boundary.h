// boundary.h — the one place where PostgreSQL meets C++ (see
// docs/architecture.md, "The engine boundary").
//
// Rule: C++ code throws, PostgreSQL code ereports, and neither crosses the
// other. Every SQL-callable function follows three phases:
//
//   1. read arguments   engine code; only trivially destructible locals
//                       (pointers, string_views), so an ereport from
//                       detoasting unwinds nothing that owns a resource;
//   2. vigil::pg::Run   runs a lambda of pure C++ inside try/catch; the
//                       lambda never calls ereport/elog/palloc (it allocates
//                       results with AllocNoThrow, which returns NULL rather
//                       than longjmp, and throws std::bad_alloc instead);
//                       every C++ object dies before the lambda returns,
//                       and only a trivially destructible value comes out;
//   3. raise or return  engine code; a failure captured in the plain
//                       `Failure` struct becomes ereport(ERROR) with its
//                       SQLSTATE, after every C++ frame has gone.
//
// Run (over Call) is the only catch site in the PostgreSQL module, and
// tests/boundary_lint.py checks that every function that can raise a
// PostgreSQL error holds only trivially destructible locals.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/memutils.h"
}

#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pg_compat.h"
#include "base/error.h"

namespace vigil::pg {

// Failure is what phase 2 hands to phase 3: plain bytes, no destructor, so a
// longjmp may abandon it safely.
struct Failure {
  bool failed;
  int sqlerrcode;
  char message[512];
  char detail[1024];
  char hint[512];
};
static_assert(std::is_trivially_destructible_v<Failure>);
static_assert(std::is_standard_layout_v<Failure>);

int SqlState(core::ErrorCode code) noexcept;
void Capture(Failure* f, int sqlerrcode, const char* message, const char* detail, const char* hint) noexcept;

// Call runs body() and records any exception in *f. Returns true on success.
// The building block of Run; code outside this header uses Run.
template <typename Body>
bool Call(Failure* f, Body&& body) noexcept {
  f->failed = false;
  try {
    body();
    return true;
  } catch (const core::Error& e) {
    Capture(f, e.engine_code() != 0 ? e.engine_code() : SqlState(e.code()), e.what(), e.detail().c_str(),
            e.hint().c_str());
  } catch (const std::bad_alloc&) {
    Capture(f, ERRCODE_OUT_OF_MEMORY, "out of memory", "", "");
  } catch (const std::exception& e) {
    Capture(f, ERRCODE_INTERNAL_ERROR, "internal error", e.what(), "");
  } catch (...) {
    Capture(f, ERRCODE_INTERNAL_ERROR, "internal error", "unknown C++ exception", "");
  }
  return false;
}

// Raise reports a captured failure with ereport(ERROR). Phase 3 only.
[[noreturn]] void Raise(const Failure& f);

// RaiseAfter is phase 3 of Run: a core loop that stopped for a pending
// cancel (core::PollCancel) lets PostgreSQL raise the real cancel or
// termination first (CHECK_FOR_INTERRUPTS, now that no C++ frame is left);
// anything else is raised as captured.
[[noreturn]] void RaiseAfter(const Failure& f);

// PgCancelPending is the core's cancellation check (installed by
// _PG_init): a query cancel or termination is pending and PostgreSQL would
// act on it now. Reads flags only; calls nothing.
bool PgCancelPending() noexcept;

// StacksIntact checks, after phase 2, that PostgreSQL's error-recovery
// stacks are where they were: if C++ code left a PG_TRY block by an
// exception, PG_exception_stack points into a dead frame and the next
// ereport would jump there (pg_duckdb checks the same). Restores them and
// records an internal error when they moved.
bool StacksIntact(sigjmp_buf* exception_stack, ErrorContextCallback* context_stack, Failure* f) noexcept;

// Run is the boundary: it runs body() — phase 2, pure C++ — and returns its
// result. When body throws, the C++ frames of body are gone by the time
// Run raises the PostgreSQL error (phase 3), so nothing that owns memory is
// unwound by the longjmp. The result is returned through Run's own frame,
// which that longjmp may abandon, so it must be trivially destructible (a
// pointer, a number, a bool, a Datum): the compiler checks.
//
//   text* result = Run([&] { return MakeText(core::IbanNormalize(value)); });
template <typename Body>
auto Run(Body&& body) -> decltype(body()) {
  using R = decltype(body());
  static_assert(std::is_void_v<R> || std::is_trivially_destructible_v<R>,
                "vigil::pg::Run returns only trivially destructible values: an ereport abandons its frame");
  Failure failure;
  sigjmp_buf* exception_stack = PG_exception_stack;
  ErrorContextCallback* context_stack = error_context_stack;
  if constexpr (std::is_void_v<R>) {
    bool ok = Call(&failure, std::forward<Body>(body));
    if (!StacksIntact(exception_stack, context_stack, &failure) || !ok) RaiseAfter(failure);
  } else {
    R result{};
    bool ok = Call(&failure, [&] { result = body(); });
    if (!StacksIntact(exception_stack, context_stack, &failure) || !ok) RaiseAfter(failure);
    return result;
  }
}

// AllocNoThrow allocates in CurrentMemoryContext without ever longjmp-ing:
// throws std::bad_alloc when memory is short or the size is not allocatable.
// Safe to call from phase 2.
void* AllocNoThrow(std::size_t size);
void* AllocNoThrowIn(MemoryContext cxt, std::size_t size);

// MakeText copies bytes into a new text datum (phase 2).
text* MakeText(std::string_view s);

// CopyCString copies s into a palloc'd NUL-terminated string (phase 2).
char* CopyCString(std::string_view s);
// CopyCStringIn copies s into `cxt`, or returns nullptr (SQL NULL) for
// nullopt: a cell of a row built for BuildTupleFromCStrings (phase 2).
char* CopyCStringIn(MemoryContext cxt, const std::optional<std::string>& s);

// OwnedByContext creates a T that lives exactly as long as memory context
// `cxt`: a reset callback deletes it when the context is reset or deleted,
// including during error recovery. Use it for the few C++ objects that must
// survive an engine phase (phase 2 only; T's destructor must not throw).
template <typename T>
void DeleteOwned(void* p) noexcept {
  delete static_cast<T*>(p);
}
template <typename T, typename... Args>
T* OwnedByContext(MemoryContext cxt, Args&&... args) {
  auto* callback = static_cast<MemoryContextCallback*>(AllocNoThrowIn(cxt, sizeof(MemoryContextCallback)));
  T* object = new T{std::forward<Args>(args)...};
  callback->func = DeleteOwned<T>;
  callback->arg = object;
  MemoryContextRegisterResetCallback(cxt, callback);  // links a list node; cannot fail
  return object;
}

// ArgText views a detoasted text argument (phase 1).
inline std::string_view ArgText(text* t) noexcept {
  return {VARDATA_ANY(t), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(t))};
}

}  // namespace vigil::pg

// VIGIL_PG_FUNCTION(name) declares the V1 entry point whose C symbol equals
// the SQL name.
#define VIGIL_PG_FUNCTION(name)   \
  extern "C" {                    \
  PG_FUNCTION_INFO_V1(name);      \
  }                               \
  extern "C" PGDLLEXPORT Datum name(PG_FUNCTION_ARGS)
