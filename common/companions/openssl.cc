// openssl.cc — the vigil_openssl companion: SHA-256, HMAC-SHA256, random
// bytes and constant-time comparison through OpenSSL (see api.h for why
// companions exist).
#include <climits>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
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

// Sha256 reuses one digest context per thread: EVP_Digest allocates and
// frees one per call, a third of the time of hashing a short statement.
int Sha256(const void* data, size_t len, unsigned char out[32]) {
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  };
  static thread_local Context c;
  unsigned int n = 0;
  if (c.ctx == nullptr) return EVP_Digest(data, len, out, &n, Sha256Md(), nullptr) == 1 && n == 32 ? 1 : 0;
  return EVP_DigestInit_ex2(c.ctx, Sha256Md(), nullptr) == 1 && EVP_DigestUpdate(c.ctx, data, len) == 1 &&
                 EVP_DigestFinal_ex(c.ctx, out, &n) == 1 && n == 32
             ? 1
             : 0;
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

int Scrypt(const void* pass, size_t pass_len, const void* salt, size_t salt_len, uint64_t n, uint64_t r, uint64_t p,
           uint64_t max_mem, unsigned char* out, size_t out_len) {
  return EVP_PBE_scrypt(static_cast<const char*>(pass), pass_len, static_cast<const unsigned char*>(salt), salt_len,
                        n, r, p, max_mem, out, out_len) == 1
             ? 1
             : 0;
}

int HkdfSha256(const void* ikm, size_t ikm_len, const void* salt, size_t salt_len, const void* info, size_t info_len,
               unsigned char* out, size_t out_len) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  if (ctx == nullptr) return 0;
  static const unsigned char kEmpty[1] = {0};
  int ok = EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_CTX_set_hkdf_md(ctx, Sha256Md()) == 1 &&
           EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt_len ? static_cast<const unsigned char*>(salt) : kEmpty,
                                       static_cast<int>(salt_len)) == 1 &&
           EVP_PKEY_CTX_set1_hkdf_key(ctx, static_cast<const unsigned char*>(ikm), static_cast<int>(ikm_len)) == 1 &&
           EVP_PKEY_CTX_add1_hkdf_info(ctx, static_cast<const unsigned char*>(info), static_cast<int>(info_len)) == 1;
  size_t len = out_len;
  ok = ok && EVP_PKEY_derive(ctx, out, &len) == 1 && len == out_len;
  EVP_PKEY_CTX_free(ctx);
  return ok ? 1 : 0;
}

const EVP_CIPHER* ChaCha() {
  static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  return c != nullptr ? c : EVP_chacha20_poly1305();
}

int ChaChaSeal(const unsigned char key[32], const unsigned char nonce[12], const void* in, size_t len,
               unsigned char* out) {
  if (len > 0x7fffffff) return 0;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return 0;
  int n = 0, m = 0;
  int ok = EVP_EncryptInit_ex2(ctx, ChaCha(), key, nonce, nullptr) == 1 &&
           EVP_EncryptUpdate(ctx, out, &n, static_cast<const unsigned char*>(in), static_cast<int>(len)) == 1 &&
           EVP_EncryptFinal_ex(ctx, out + n, &m) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok && static_cast<size_t>(n + m) == len ? 1 : 0;
}

int ChaChaOpen(const unsigned char key[32], const unsigned char nonce[12], const void* in, size_t len,
               unsigned char* out) {
  if (len < 16 || len > 0x7fffffff) return 0;
  size_t body = len - 16;
  const auto* bytes = static_cast<const unsigned char*>(in);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return 0;
  unsigned char tag[16];
  memcpy(tag, bytes + body, 16);
  int n = 0, m = 0;
  int ok = EVP_DecryptInit_ex2(ctx, ChaCha(), key, nonce, nullptr) == 1 &&
           EVP_DecryptUpdate(ctx, out, &n, bytes, static_cast<int>(body)) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1 && EVP_DecryptFinal_ex(ctx, out + n, &m) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok && static_cast<size_t>(n + m) == body ? 1 : 0;
}

constexpr VigilOpensslApi kApiV1 = {1, Sha256, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
constexpr VigilOpensslApi kApiV2 = {2, Sha256, HmacSha256, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
constexpr VigilOpensslApi kApi = {VIGIL_OPENSSL_API_VERSION, Sha256, HmacSha256, RandomBytes, Equal,
                                  Scrypt, HkdfSha256, ChaChaSeal, ChaChaOpen};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilOpensslApi* vigil_openssl_api(void) { return &kApiV1; }
extern "C" __attribute__((visibility("default"))) const VigilOpensslApi* vigil_openssl_api_v2(void) { return &kApiV2; }
extern "C" __attribute__((visibility("default"))) const VigilOpensslApi* vigil_openssl_api_v3(void) { return &kApi; }
