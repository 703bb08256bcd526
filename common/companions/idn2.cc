// idn2.cc — the vigil_idn2 companion: IDNA 2008 lookups through libidn2
// (see api.h).
#include <idn2.h>

#include <cstring>

#include "companions/api.h"
#include "base/core_guard.h"

namespace {

int Lookup(const char* domain, char* ace, size_t ace_size) {
  char* out = nullptr;
  int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(domain), reinterpret_cast<uint8_t**>(&out),
                          IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  int result = 1;
  if (rc == IDN2_OK && out != nullptr) {
    size_t n = std::strlen(out);
    if (n + 1 > ace_size) {
      result = 2;
    } else {
      std::memcpy(ace, out, n + 1);
      result = 0;
    }
  }
  idn2_free(out);  // the buffer is libidn2's: released with its own free
  return result;
}

constexpr VigilIdn2Api kApi = {1, Lookup};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilIdn2Api* vigil_idn2_api(void) { return &kApi; }
