// argon2.cc — the vigil_argon2 companion: Argon2 through libargon2, the
// reference implementation (see api.h for why companions exist).
#include <argon2.h>
#include <string.h>

#include "companions/api.h"
#include "base/core_guard.h"

namespace {

int HashId(uint32_t t_cost, uint32_t m_cost_kib, uint32_t parallelism, const void* pwd, size_t pwd_len,
           const void* salt, size_t salt_len, size_t hash_len, char* encoded, size_t encoded_len) {
  return argon2id_hash_encoded(t_cost, m_cost_kib, parallelism, pwd, pwd_len, salt, salt_len, hash_len, encoded,
                               encoded_len);
}

int Verify(const char* encoded, const void* pwd, size_t pwd_len, int type) {
  if (type != Argon2_d && type != Argon2_i && type != Argon2_id) return ARGON2_INCORRECT_TYPE;
  // The core parsed and bounded the string already; a PHC string of
  // Argon2 with a 64-byte salt and hash stays well under 512 bytes.
  if (strnlen(encoded, 512) == 512) return ARGON2_DECODING_FAIL;
  return argon2_verify(encoded, pwd, pwd_len, static_cast<argon2_type>(type));
}

const char* Message(int code) { return argon2_error_message(code); }

constexpr VigilArgon2Api kApi = {VIGIL_ARGON2_API_VERSION, HashId, Verify, Message};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilArgon2Api* vigil_argon2_api(void) { return &kApi; }
