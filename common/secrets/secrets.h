// secrets.h — passwords and API keys (SPEC §6, issue 14).
//
// Passwords: Argon2id through libargon2 (the vigil_argon2 companion), PHC
// strings, parameters at least OWASP's recommendation; verifying bounds the
// work a stored hash may demand. API keys: random bytes from OpenSSL, and
// a keyed fast hash (HMAC-SHA256), since a key is high-entropy: the secret
// of that hash comes from the engine (the server, or the SQLite connection)
// and never from the database it protects. docs/secrets.md has the
// decisions; docs/security.md the threat model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::core::secrets {

// ---- passwords ------------------------------------------------------------------

struct PasswordPolicy {
  std::uint32_t memory_kib = 19456;  // OWASP's Argon2id recommendation: 19 MiB,
  std::uint32_t iterations = 2;      // 2 passes,
  std::uint32_t parallelism = 1;     // 1 lane
};

// Limits of the work one hash may take, for hashing (options) and for
// verifying a stored hash alike: 256 MiB, 16 passes, 16 lanes, and at most
// 1 GiB of memory passes (memory_kib * iterations).
inline constexpr std::uint32_t kMaxMemoryKib = 262144;
inline constexpr std::uint32_t kMaxIterations = 16;
inline constexpr std::uint32_t kMaxParallelism = 16;
inline constexpr std::uint64_t kMaxWork = 1048576;
// A password is at most 1 MiB.
inline constexpr std::size_t kMaxPassword = 1048576;

// ParsePolicy reads {"memory_kib": m, "iterations": t, "parallelism": p}
// (every key optional; the defaults above). Weaker than every pair OWASP
// lists as equivalent (46 MiB x 1, 19 MiB x 2, 12 MiB x 3, 9 MiB x 4,
// 7 MiB x 5) is 22023, beyond the limits 54000.
PasswordPolicy ParsePolicy(std::optional<std::string_view> options);

// PasswordHash: Argon2id with a 16-byte random salt and a 32-byte hash, as
// a PHC string. An empty password is 22023, one over 1 MiB 54000.
std::string PasswordHash(std::string_view password, const PasswordPolicy& policy);

// PasswordVerify: whether the password matches a PHC string of Argon2id,
// Argon2i or Argon2d, compared in constant time. A malformed string is
// 22023; one that asks for more than the limits 54000 (checked before any
// work); an empty password never matches.
bool PasswordVerify(std::string_view password, std::string_view phc);

// PasswordNeedsRehash: the PHC string is below the policy: another
// algorithm or version, less memory, fewer passes, or a shorter salt or
// hash (stronger parameters need no rehash). Malformed is 22023.
bool PasswordNeedsRehash(std::string_view phc, const PasswordPolicy& policy);

// ---- API keys -------------------------------------------------------------------

// ApiKeyGenerate: prefix "_" 52 lower-case base32 letters and digits (32
// random bytes, 256 bits). The prefix is 1 to 32 ASCII letters, digits or
// underscores (22023 otherwise): it says what the key is for, in logs and
// in secret scanners.
std::string ApiKeyGenerate(std::string_view prefix);

// CheckSecret: the secret of API-key hashes is at least 16 bytes (22023).
void CheckSecret(std::string_view secret);

// ApiKeyHash: "hmac-sha256$" and 64 hex digits of HMAC-SHA256(secret,
// "vigil-api-key-v1\n" key): the label keeps its messages apart from any
// other MAC vigil computes under a secret.
// Deterministic, so a table keeps it in an indexed column and finds a
// presented key by it. An empty key or one over 4 KiB is 22023.
std::string ApiKeyHash(std::string_view key, std::string_view secret);

// ApiKeyVerify: the key's hash equals `stored`, compared in constant time.
// A stored value not of ApiKeyHash's form is 22023; an empty key never
// matches.
bool ApiKeyVerify(std::string_view key, std::string_view stored, std::string_view secret);

}  // namespace vigil::core::secrets
