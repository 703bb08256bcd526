// openssl.cc — the vigil_openssl companion: SHA-256, HMAC-SHA256, random
// bytes and constant-time comparison through OpenSSL (see api.h for why
// companions exist).
#include <climits>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "companions/api.h"
#include "base/core_guard.h"

namespace {

// The algorithm is fetched once: OpenSSL 3's implicit fetch on every
// EVP_sha256() call costs more than hashing an audit entry.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md != nullptr ? md : EVP_sha256();
}

int Sha256(const void* data, size_t len, unsigned char out[32]) {
  unsigned int n = 0;
  return EVP_Digest(data, len, out, &n, Sha256Md(), nullptr) == 1 && n == 32 ? 1 : 0;
}

int HmacSha256(const void* key, size_t key_len, const void* data, size_t len, unsigned char out[32]) {
  if (key_len > 0x7fffffff) return 0;
  unsigned int n = 0;
  const unsigned char* r =
      HMAC(Sha256Md(), key, static_cast<int>(key_len), static_cast<const unsigned char*>(data), len, out, &n);
  return r != nullptr && n == 32 ? 1 : 0;
}

// RandomBytes fills out from OpenSSL's CSPRNG (seeded from the kernel).
int RandomBytes(void* out, size_t len) {
  auto* p = static_cast<unsigned char*>(out);
  while (len > 0) {
    int n = len > INT_MAX ? INT_MAX : static_cast<int>(len);
    if (RAND_bytes(p, n) != 1) return 0;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return 1;
}

int Equal(const void* a, const void* b, size_t len) { return CRYPTO_memcmp(a, b, len) == 0 ? 1 : 0; }

constexpr VigilOpensslApi kApiV1 = {1, Sha256, nullptr, nullptr, nullptr};
constexpr VigilOpensslApi kApiV2 = {2, Sha256, HmacSha256, nullptr, nullptr};
constexpr VigilOpensslApi kApi = {VIGIL_OPENSSL_API_VERSION, Sha256, HmacSha256, RandomBytes, Equal};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilOpensslApi* vigil_openssl_api(void) { return &kApiV1; }
extern "C" __attribute__((visibility("default"))) const VigilOpensslApi* vigil_openssl_api_v2(void) { return &kApiV2; }
extern "C" __attribute__((visibility("default"))) const VigilOpensslApi* vigil_openssl_api_v3(void) { return &kApi; }
