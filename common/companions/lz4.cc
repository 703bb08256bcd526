// lz4.cc — the vigil_lz4 companion: LZ4 block compression (liblz4) for the
// staged audit batches SQLite writes (see api.h). liblz4 is C and throws
// nothing; sizes beyond what it takes (int) are refused here.
#include <lz4.h>

#include "companions/api.h"
#include "base/core_guard.h"

namespace {

size_t Compress(const void* src, size_t len, void* dst, size_t cap) {
  if (len > LZ4_MAX_INPUT_SIZE || cap > 0x7fffffff) return 0;
  int n = LZ4_compress_default(static_cast<const char*>(src), static_cast<char*>(dst), static_cast<int>(len),
                               static_cast<int>(cap));
  return n > 0 ? static_cast<size_t>(n) : 0;
}

size_t Bound(size_t len) {
  if (len > LZ4_MAX_INPUT_SIZE) return 0;
  return static_cast<size_t>(LZ4_compressBound(static_cast<int>(len)));
}

int Decompress(const void* src, size_t len, void* dst, size_t raw) {
  if (len > 0x7fffffff || raw > LZ4_MAX_INPUT_SIZE) return 0;
  int n = LZ4_decompress_safe(static_cast<const char*>(src), static_cast<char*>(dst), static_cast<int>(len),
                              static_cast<int>(raw));
  return n >= 0 && static_cast<size_t>(n) == raw ? 1 : 0;
}

constexpr VigilLz4Api kApi = {1, Compress, Bound, Decompress};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilLz4Api* vigil_lz4_api(void) { return &kApi; }
