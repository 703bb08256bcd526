// secrets.cc — see secrets.h.
#include "secrets/secrets.h"

#include <array>
#include <charconv>
#include <vector>

#include "base/cancel.h"
#include "base/companion.h"
#include "base/error.h"
#include "base/hash.h"
#include "base/json.h"
#include "companions/api.h"
#include "base/core_guard.h"

namespace vigil::core::secrets {
namespace {

using json = nlohmann::json;

const VigilArgon2Api& Argon2() {
  static const VigilArgon2Api& api =
      companion::Require<VigilArgon2Api>("vigil_argon2", VIGIL_ARGON2_API_ENTRY, VIGIL_ARGON2_API_VERSION);
  return api;
}

constexpr int kTypeD = 0, kTypeI = 1, kTypeId = 2;
constexpr int kArgon2VerifyMismatch = -35;
constexpr std::size_t kSaltBytes = 16, kHashBytes = 32;

// OWASP Password Storage Cheat Sheet, Argon2id: equivalent configurations
// (memory KiB, passes) at one lane.
constexpr std::array<std::pair<std::uint32_t, std::uint32_t>, 5> kOwasp = {
    {{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5}}};

// A PHC string of Argon2, as libargon2 writes and reads it.
struct Phc {
  int type = -1;
  std::uint32_t version = 0x10;  // a string without "v=" is Argon2 1.0
  std::uint32_t m = 0, t = 0, p = 0;
  std::size_t salt_bytes = 0, hash_bytes = 0;
};

[[noreturn]] void Malformed(const char* why) {
  throw Error(ErrorCode::kInvalidParameter, std::string("not an Argon2 PHC string: ") + why, {},
              "expected $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash> (base64 without padding)");
}

bool Eat(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

std::uint32_t Number(std::string_view& s, const char* what) {
  std::size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || n > 10 || (n > 1 && s[0] == '0')) Malformed(what);
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + n, v);
  if (v > 0xffffffffu) Malformed(what);
  s.remove_prefix(n);
  return static_cast<std::uint32_t>(v);
}

// B64Bytes: the bytes a base64 field without padding holds.
std::size_t B64Bytes(std::string_view field, const char* what) {
  for (char c : field)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
      Malformed(what);
  if (field.size() % 4 == 1) Malformed(what);
  return field.size() / 4 * 3 + (field.size() % 4 == 0 ? 0 : field.size() % 4 - 1);
}

Phc Parse(std::string_view s) {
  Phc h;
  if (Eat(s, "$argon2id$")) h.type = kTypeId;
  else if (Eat(s, "$argon2i$")) h.type = kTypeI;
  else if (Eat(s, "$argon2d$")) h.type = kTypeD;
  else Malformed("it does not start with $argon2id$, $argon2i$ or $argon2d$");
  if (Eat(s, "v=")) {
    h.version = Number(s, "bad version");
    if (h.version != 0x10 && h.version != 0x13) Malformed("unknown version");
    if (!Eat(s, "$")) Malformed("bad version");
  }
  if (!Eat(s, "m=")) Malformed("no m=");
  h.m = Number(s, "bad m");
  if (!Eat(s, ",t=")) Malformed("no t=");
  h.t = Number(s, "bad t");
  if (!Eat(s, ",p=")) Malformed("no p=");
  h.p = Number(s, "bad p");
  if (!Eat(s, "$")) Malformed("no salt");
  std::size_t dollar = s.find('$');
  if (dollar == std::string_view::npos) Malformed("no hash");
  h.salt_bytes = B64Bytes(s.substr(0, dollar), "bad salt");
  h.hash_bytes = B64Bytes(s.substr(dollar + 1), "bad hash");
  if (h.salt_bytes < 8 || h.salt_bytes > 64) Malformed("the salt must be 8 to 64 bytes");
  if (h.hash_bytes < 4 || h.hash_bytes > 64) Malformed("the hash must be 4 to 64 bytes");
  if (h.t < 1 || h.p < 1 || h.m < 8 * h.p) Malformed("parameters out of Argon2's range");
  return h;
}

void CheckWork(std::uint32_t m, std::uint32_t t, std::uint32_t p, const char* whose) {
  if (m > kMaxMemoryKib || t > kMaxIterations || p > kMaxParallelism ||
      static_cast<std::uint64_t>(m) * t > kMaxWork)
    throw Error(ErrorCode::kProgramLimit,
                std::string(whose) + " asks for more work than vigil allows (m=" + std::to_string(m) +
                    ", t=" + std::to_string(t) + ", p=" + std::to_string(p) + ")",
                "at most m=262144 (256 MiB), t=16, p=16 and m*t=1048576",
                "a hash made with such parameters cannot be checked here");
}

void CheckPassword(std::string_view password) {
  if (password.size() > kMaxPassword)
    throw Error(ErrorCode::kProgramLimit, "password longer than 1 MiB");
}

std::uint32_t Field(const json& v, const char* key, std::uint32_t fallback) {
  auto it = v.find(key);
  if (it == v.end()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 0xffffffffLL)
    throw Error(ErrorCode::kInvalidParameter, std::string("password option \"") + key + "\" must be a positive integer");
  return static_cast<std::uint32_t>(it->get<std::int64_t>());
}

}  // namespace

PasswordPolicy ParsePolicy(std::optional<std::string_view> options) {
  PasswordPolicy p;
  if (!options || options->empty()) return p;
  json v = json_in::ParseInput(*options, "password options");
  if (v.is_null()) return p;
  if (!v.is_object()) throw Error(ErrorCode::kInvalidParameter, "password options must be a JSON object");
  for (const auto& [key, value] : v.items())
    if (key != "memory_kib" && key != "iterations" && key != "parallelism")
      throw Error(ErrorCode::kInvalidParameter, "unknown password option \"" + key + "\"", {},
                  "the options are memory_kib, iterations and parallelism");
  p.memory_kib = Field(v, "memory_kib", p.memory_kib);
  p.iterations = Field(v, "iterations", p.iterations);
  p.parallelism = Field(v, "parallelism", p.parallelism);
  CheckWork(p.memory_kib, p.iterations, p.parallelism, "the password options");
  bool strong = false;
  for (auto [m, t] : kOwasp) strong = strong || (p.memory_kib >= m && p.iterations >= t);
  if (!strong || p.memory_kib < 8 * p.parallelism)
    throw Error(ErrorCode::kInvalidParameter, "password options weaker than OWASP's Argon2id recommendation",
                "at least one of: 47104 KiB x 1 pass, 19456 x 2, 12288 x 3, 9216 x 4, 7168 x 5",
                "the default is 19456 KiB, 2 passes, 1 lane");
  return p;
}

std::string PasswordHash(std::string_view password, const PasswordPolicy& policy) {
  if (password.empty()) throw Error(ErrorCode::kInvalidParameter, "password is empty");
  CheckPassword(password);
  CheckWork(policy.memory_kib, policy.iterations, policy.parallelism, "the password options");
  PollCancel();
  std::string salt = hash::RandomBytes(kSaltBytes);
  char encoded[256];
  int rc = Argon2().hash_id(policy.iterations, policy.memory_kib, policy.parallelism, password.data(),
                            password.size(), salt.data(), salt.size(), kHashBytes, encoded, sizeof encoded);
  if (rc != 0) throw Error(ErrorCode::kInternal, std::string("Argon2 failed: ") + Argon2().message(rc));
  PollCancel();
  return encoded;
}

bool PasswordVerify(std::string_view password, std::string_view phc) {
  Phc h = Parse(phc);
  CheckWork(h.m, h.t, h.p, "the stored hash");
  if (password.empty()) return false;
  CheckPassword(password);
  PollCancel();
  std::string encoded(phc);  // NUL-terminated for libargon2
  int rc = Argon2().verify(encoded.c_str(), password.data(), password.size(), h.type);
  PollCancel();
  if (rc == 0) return true;
  if (rc == kArgon2VerifyMismatch) return false;
  throw Error(ErrorCode::kInvalidParameter, std::string("not an Argon2 PHC string: ") + Argon2().message(rc));
}

bool PasswordNeedsRehash(std::string_view phc, const PasswordPolicy& policy) {
  Phc h = Parse(phc);
  // Below the policy (SPEC §6): another algorithm or version, less memory,
  // fewer passes, or a shorter salt or hash. Stronger parameters stay; the
  // lanes change the schedule, not the work.
  return h.type != kTypeId || h.version != 0x13 || h.m < policy.memory_kib || h.t < policy.iterations ||
         h.salt_bytes < kSaltBytes || h.hash_bytes < kHashBytes;
}

// ---- API keys -------------------------------------------------------------------

std::string ApiKeyGenerate(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 32)
    throw Error(ErrorCode::kInvalidParameter, "API key prefix must be 1 to 32 characters");
  for (char c : prefix)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      throw Error(ErrorCode::kInvalidParameter, "API key prefix may hold only ASCII letters, digits and underscores");
  static const char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string bytes = hash::RandomBytes(32);
  std::string out(prefix);
  out += '_';
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kBase32[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32[(buffer << (5 - bits)) & 31];
  return out;
}

void CheckSecret(std::string_view secret) {
  if (secret.size() < 16)
    throw Error(ErrorCode::kInvalidParameter, "the API-key secret must be at least 16 bytes", "",
                "use a random secret, e.g. openssl rand -hex 32");
}

std::string ApiKeyHash(std::string_view key, std::string_view secret) {
  if (key.empty()) throw Error(ErrorCode::kInvalidParameter, "API key is empty");
  if (key.size() > 4096) throw Error(ErrorCode::kInvalidParameter, "API key longer than 4 KiB");
  CheckSecret(secret);
  // A label first: the message never equals one the audit chain MACs
  // ("vigil-audit-chain-v1..."), so an operator who gives both the same
  // secret does not hand every role an oracle for chain links.
  std::string message = "vigil-api-key-v1\n";
  message += key;
  return "hmac-sha256$" + hash::Hex(hash::HmacSha256(secret, message));
}

bool ApiKeyVerify(std::string_view key, std::string_view stored, std::string_view secret) {
  constexpr std::string_view kTag = "hmac-sha256$";
  if (stored.substr(0, kTag.size()) != kTag || !hash::FromHex(stored.substr(kTag.size())))
    throw Error(ErrorCode::kInvalidParameter, "not an API-key hash of vigil", {},
                "vigil_api_key_hash returns hmac-sha256$ and 64 hex digits");
  CheckSecret(secret);
  if (key.empty() || key.size() > 4096) return false;
  std::string mine = ApiKeyHash(key, secret);
  std::string theirs(stored);
  for (char& c : theirs)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return hash::Equal(mine, theirs);
}

}  // namespace vigil::core::secrets
