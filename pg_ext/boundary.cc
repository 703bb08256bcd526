// boundary.cc — error capture and no-longjmp allocation for the PostgreSQL
// module (see boundary.h for the protocol).
#include "boundary.h"

extern "C" {
#include "utils/elog.h"
}

namespace vigil::pg {

int SqlState(core::ErrorCode code) noexcept {
  switch (code) {
    case core::ErrorCode::kInvalidParameter: return ERRCODE_INVALID_PARAMETER_VALUE;
    case core::ErrorCode::kInvalidText: return ERRCODE_INVALID_TEXT_REPRESENTATION;
    case core::ErrorCode::kProgramLimit: return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
    case core::ErrorCode::kNotSupported: return ERRCODE_FEATURE_NOT_SUPPORTED;
    case core::ErrorCode::kInternal: return ERRCODE_INTERNAL_ERROR;
    case core::ErrorCode::kNullValue: return ERRCODE_NULL_VALUE_NOT_ALLOWED;
    case core::ErrorCode::kUndefinedTable: return ERRCODE_UNDEFINED_TABLE;
    case core::ErrorCode::kUndefinedColumn: return ERRCODE_UNDEFINED_COLUMN;
    case core::ErrorCode::kCheckViolation: return ERRCODE_CHECK_VIOLATION;
    case core::ErrorCode::kEngine: return ERRCODE_INTERNAL_ERROR;
    case core::ErrorCode::kPrerequisite: return ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
    case core::ErrorCode::kUndefinedFile: return ERRCODE_UNDEFINED_FILE;
    case core::ErrorCode::kLockTimeout: return ERRCODE_LOCK_NOT_AVAILABLE;
    case core::ErrorCode::kCanceled: return ERRCODE_QUERY_CANCELED;
    case core::ErrorCode::kPrivilege: return ERRCODE_INSUFFICIENT_PRIVILEGE;
    case core::ErrorCode::kWrongObjectType: return ERRCODE_WRONG_OBJECT_TYPE;
    case core::ErrorCode::kDependentObjects: return ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST;
  }
  return ERRCODE_INTERNAL_ERROR;
}

static void CopyTruncated(char* dst, std::size_t cap, const char* src) noexcept {
  std::size_t n = std::strlen(src);
  if (n >= cap) n = cap - 1;
  std::memcpy(dst, src, n);
  dst[n] = '\0';
  // Do not leave half a UTF-8 sequence at the cut.
  while (n > 0 && (static_cast<unsigned char>(dst[n - 1]) & 0xC0) == 0x80) dst[--n] = '\0';
  if (n > 0 && static_cast<unsigned char>(dst[n - 1]) >= 0xC0) dst[--n] = '\0';
}

void Capture(Failure* f, int sqlerrcode, const char* message, const char* detail, const char* hint) noexcept {
  f->failed = true;
  f->sqlerrcode = sqlerrcode;
  CopyTruncated(f->message, sizeof(f->message), message);
  CopyTruncated(f->detail, sizeof(f->detail), detail);
  CopyTruncated(f->hint, sizeof(f->hint), hint);
}

void Raise(const Failure& f) {
  ereport(ERROR, (errcode(f.sqlerrcode), errmsg("%s", f.message),
                  f.detail[0] ? errdetail("%s", f.detail) : 0,
                  f.hint[0] ? errhint("%s", f.hint) : 0));
  pg_unreachable();
}

void RaiseAfter(const Failure& f) {
  if (f.sqlerrcode == ERRCODE_QUERY_CANCELED) CHECK_FOR_INTERRUPTS();
  Raise(f);
}

bool PgCancelPending() noexcept {
  if (!InterruptPending || InterruptHoldoffCount != 0 || CritSectionCount != 0) return false;
  return ProcDiePending || (QueryCancelPending && QueryCancelHoldoffCount == 0);
}

bool StacksIntact(sigjmp_buf* exception_stack, ErrorContextCallback* context_stack, Failure* f) noexcept {
  if (PG_exception_stack == exception_stack && error_context_stack == context_stack) return true;
  PG_exception_stack = exception_stack;
  error_context_stack = context_stack;
  Capture(f, ERRCODE_INTERNAL_ERROR, "internal error", "a C++ exception left a PG_TRY block", "");
  return false;
}

void* AllocNoThrow(std::size_t size) { return AllocNoThrowIn(CurrentMemoryContext, size); }

void* AllocNoThrowIn(MemoryContext cxt, std::size_t size) {
  if (!AllocSizeIsValid(size)) throw std::bad_alloc();
  void* p = MemoryContextAllocExtended(cxt, size, MCXT_ALLOC_NO_OOM);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

char* CopyCStringIn(MemoryContext cxt, const std::optional<std::string>& s) {
  if (!s) return nullptr;
  auto* p = static_cast<char*>(AllocNoThrowIn(cxt, s->size() + 1));
  memcpy(p, s->c_str(), s->size() + 1);
  return p;
}

char* CopyCString(std::string_view s) {
  auto* p = static_cast<char*>(AllocNoThrow(s.size() + 1));
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

text* MakeText(std::string_view s) {
  auto* t = static_cast<text*>(AllocNoThrow(VARHDRSZ + s.size()));
  SET_VARSIZE(t, VARHDRSZ + s.size());
  std::memcpy(VARDATA(t), s.data(), s.size());
  return t;
}

}  // namespace vigil::pg
