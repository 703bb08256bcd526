// api.h — the C interface between the core and its companion modules.
//
// Loading vigil costs what the dynamic linker spends on its libraries, so
// the heavy ones are not linked into the modules: each sits behind a small
// companion module (vigil_openssl.so, vigil_re2.so, vigil_idn2.so,
// vigil_keccak.so, vigil_phone.so, installed beside vigil.so) that the core
// loads the first time a function needs it (base/companion.h). Only plain
// C crosses this interface: no C++ object, no exception, no allocation one
// side frees for the other. Every entry point is noexcept; strings a
// companion returns are static or live as long as the handle they came
// from. Bump the version of an interface when its layout changes.
#pragma once

#include <stddef.h>
#include <stdint.h>

extern "C" {

// vigil_openssl.so: SHA-256 and, under entry points of their own (as
// vigil_re2 and vigil_idn2 do), HMAC-SHA256 (version 2), and OpenSSL's
// random generator and constant-time comparison (version 3), through
// OpenSSL's EVP, RAND and CRYPTO APIs.
#define VIGIL_OPENSSL_API_VERSION 3u
#define VIGIL_OPENSSL_API_ENTRY "vigil_openssl_api_v3"
struct VigilOpensslApi {
  unsigned version;  // 1, 2 or 3 from vigil_openssl_api, _v2, _v3
  int (*sha256)(const void* data, size_t len, unsigned char out[32]);  // 1 on success
  int (*hmac_sha256)(const void* key, size_t key_len, const void* data, size_t len,
                     unsigned char out[32]);  // version 2: 1 on success
  int (*random_bytes)(void* out, size_t len);  // version 3: RAND_bytes; 1 on success
  int (*equal)(const void* a, const void* b, size_t len);  // version 3: CRYPTO_memcmp; 1 when equal
  // Version 3, for age (backups): scrypt (r, p as given, at most max_mem
  // bytes), HKDF-SHA256 (RFC 5869), ChaCha20-Poly1305 (RFC 8439; `out`
  // holds len + 16 bytes when sealing, len - 16 when opening). 1 on
  // success; open returns 0 when the tag does not verify.
  int (*scrypt)(const void* pass, size_t pass_len, const void* salt, size_t salt_len, uint64_t n, uint64_t r,
                uint64_t p, uint64_t max_mem, unsigned char* out, size_t out_len);
  int (*hkdf_sha256)(const void* ikm, size_t ikm_len, const void* salt, size_t salt_len, const void* info,
                     size_t info_len, unsigned char* out, size_t out_len);
  int (*chacha20poly1305_seal)(const unsigned char key[32], const unsigned char nonce[12], const void* in,
                               size_t len, unsigned char* out);
  int (*chacha20poly1305_open)(const unsigned char key[32], const unsigned char nonce[12], const void* in,
                               size_t len, unsigned char* out);
};
const VigilOpensslApi* vigil_openssl_api(void);     // version 1, for earlier releases
const VigilOpensslApi* vigil_openssl_api_v2(void);  // version 2, for earlier releases
const VigilOpensslApi* vigil_openssl_api_v3(void);  // this release

// vigil_argon2.so: Argon2 password hashing (libargon2, the reference
// implementation), PHC strings ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
//   hash_id: Argon2id of pwd with the salt and parameters, its PHC string
//     written to `encoded` (NUL-terminated); verify: pwd against a PHC
//     string of type 0 (d), 1 (i) or 2 (id), compared in constant time.
//   Both return libargon2's codes: 0 success, -35 verify mismatch, other
//   negative values errors that message() describes (a static string).
#define VIGIL_ARGON2_API_VERSION 1u
#define VIGIL_ARGON2_API_ENTRY "vigil_argon2_api"
struct VigilArgon2Api {
  unsigned version;  // 1
  int (*hash_id)(uint32_t t_cost, uint32_t m_cost_kib, uint32_t parallelism, const void* pwd, size_t pwd_len,
                 const void* salt, size_t salt_len, size_t hash_len, char* encoded, size_t encoded_len);
  int (*verify)(const char* encoded, const void* pwd, size_t pwd_len, int type);
  const char* (*message)(int code);
};
const VigilArgon2Api* vigil_argon2_api(void);

// vigil_re2.so: linear-time regular expressions (RE2), unanchored search.
// Version 2 appended program_size (RE2::ProgramSize, the compiled
// program's instructions, which its memory follows) under a new entry
// point; vigil_re2_api() keeps returning the version 1 table for a
// long-lived backend of an earlier release (as vigil_idn2 does).
#define VIGIL_RE2_API_VERSION 2u
#define VIGIL_RE2_API_ENTRY "vigil_re2_api_v2"
struct VigilRe2Api {
  unsigned version;  // 1 from vigil_re2_api, VIGIL_RE2_API_VERSION from vigil_re2_api_v2
  void* (*compile)(const char* pattern, size_t len);  // never NULL except out of memory
  const char* (*error)(const void* re);               // NULL when it compiled
  int (*partial_match)(const void* re, const char* text, size_t len);  // 1 match, 0 no, -1 error
  void (*release)(void* re);
  int (*program_size)(const void* re);  // version 2: -1 when it did not compile
};
const VigilRe2Api* vigil_re2_api(void);     // version 1, for earlier releases
const VigilRe2Api* vigil_re2_api_v2(void);  // this release

// vigil_idn2.so: IDNA 2008 (libidn2).
//   lookup: a UTF-8 domain to its ASCII form, copied into `ace`
//     (NUL-terminated), as a resolver would look it up (UTS #46 mapping).
//   check_label (version 2): one label, UTF-8 and NUL-terminated, with no
//     dot and its ASCII letters lower-cased, checked as a registry would
//     (RFC 5891 §4: PVALID, CONTEXTJ and CONTEXTO rules, the label's Bidi
//     rule); an "xn--" label is decoded and checked the same way. Its
//     A-label goes to `ace`; *rtl is set to 1 when the label holds a
//     right-to-left character (RFC 5893 §1.4), else 0.
// Both return 0 valid, 1 invalid, 2 too long for `ace`.
// Version 2 appended check_label under a new entry point: vigil_idn2_api()
// still returns the version 1 table (check_label NULL), because during a
// package upgrade a long-lived backend may hold the vigil.so of the earlier
// release and open this newer companion for the first time.
#define VIGIL_IDN2_API_VERSION 2u
#define VIGIL_IDN2_API_ENTRY "vigil_idn2_api_v2"
struct VigilIdn2Api {
  unsigned version;  // 1 from vigil_idn2_api, VIGIL_IDN2_API_VERSION from vigil_idn2_api_v2
  int (*lookup)(const char* domain, char* ace, size_t ace_size);
  int (*check_label)(const char* label, char* ace, size_t ace_size, int* rtl);
};
const VigilIdn2Api* vigil_idn2_api(void);     // version 1, for earlier releases
const VigilIdn2Api* vigil_idn2_api_v2(void);  // this release

// vigil_keccak.so: Keccak-256 as Ethereum uses it (Crypto++).
struct VigilKeccakApi {
  unsigned version;  // 1
  int (*keccak256)(const void* data, size_t len, unsigned char out[32]);  // 1 on success
};
const VigilKeccakApi* vigil_keccak_api(void);

// vigil_phone.so: telephone numbers (libphonenumber). Reasons are static
// strings, NULL when valid.
struct VigilPhoneApi {
  unsigned version;  // 1
  const char* (*check_e164)(const char* s, size_t len);  // s already has the "+digits" shape
  int (*known_region)(const char* region);  // 1 when libphonenumber knows it
  const char* (*check_in_region)(const char* s, size_t len, const char* region);
};
const VigilPhoneApi* vigil_phone_api(void);

// vigil_lz4.so: LZ4 block compression (liblz4), for the batches of staged
// audit entries SQLite writes at commit (audit/staged.h).
//   compress: src into dst (cap bytes); the compressed size, or 0 when it
//     does not fit (or src is larger than LZ4 takes).
//   bound: the most compress can write for len bytes (0: too large).
//   decompress: src into exactly raw bytes at dst; 1 when src is a valid
//     block of exactly raw bytes, 0 otherwise. It never reads past src + len
//     nor writes past dst + raw (LZ4_decompress_safe).
#define VIGIL_LZ4_API_VERSION 1u
#define VIGIL_LZ4_API_ENTRY "vigil_lz4_api"
struct VigilLz4Api {
  unsigned version;  // 1
  size_t (*compress)(const void* src, size_t len, void* dst, size_t cap);
  size_t (*bound)(size_t len);
  int (*decompress)(const void* src, size_t len, void* dst, size_t raw);
};
const VigilLz4Api* vigil_lz4_api(void);

}  // extern "C"
