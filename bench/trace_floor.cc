// trace_floor.cc — the floor of statement monitoring on SQLite (bench only,
// issue 16; docs/performance.md).
//
// Not monitoring: what any monitor that times statements through SQLite's
// trace API pays at least. It subscribes to the events vigil uses
// (SQLITE_TRACE_STMT, _ROW, _PROFILE), reads the clock vigil reads (the
// TSC on x86-64, else CLOCK_MONOTONIC) when a statement starts and when it
// ends, and adds the difference and the rows to one total per connection:
// no statement identity, no entry, no histogram. bench/monitor.py loads it
// in the same run as vigil.
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <new>
#if defined(__x86_64__)
#include <x86intrin.h>
inline std::uint64_t Ticks() { return __rdtsc(); }
#else
inline std::uint64_t Ticks() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}
#endif

namespace {

struct Floor {
  std::uint64_t start = 0, total = 0, calls = 0, rows = 0;
};

int Trace(unsigned type, void* ctx, void* p, void* x) {
  auto* f = static_cast<Floor*>(ctx);
  (void)p;
  if (type == SQLITE_TRACE_ROW) {
    ++f->rows;
  } else if (type == SQLITE_TRACE_STMT) {
    const char* text = static_cast<const char*>(x);
    if (text[0] != '-' || text[1] != '-') f->start = Ticks();  // not a trigger's subprogram
  } else if (type == SQLITE_TRACE_PROFILE) {
    f->total += Ticks() - f->start;
    ++f->calls;
  }
  return 0;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int sqlite3_extension_init(sqlite3* db, char** error,
                                                                           const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  (void)error;
  auto* f = new (std::nothrow) Floor();  // lives as long as the process: a bench
  if (f == nullptr) return SQLITE_NOMEM;
  sqlite3_trace_v2(db, SQLITE_TRACE_STMT | SQLITE_TRACE_ROW | SQLITE_TRACE_PROFILE, Trace, f);
  return SQLITE_OK;
}
