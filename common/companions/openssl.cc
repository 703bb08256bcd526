// openssl.cc — the vigil_openssl companion: SHA-256 through OpenSSL's EVP
// (see api.h for why companions exist).
#include <openssl/evp.h>

#include "companions/api.h"
#include "base/core_guard.h"

namespace {

int Sha256(const void* data, size_t len, unsigned char out[32]) {
  unsigned int n = 0;
  return EVP_Digest(data, len, out, &n, EVP_sha256(), nullptr) == 1 && n == 32 ? 1 : 0;
}

constexpr VigilOpensslApi kApi = {1, Sha256};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilOpensslApi* vigil_openssl_api(void) { return &kApi; }
