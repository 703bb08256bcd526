// secrets_phc.cc — fuzz target: the PHC string and options parsers of
// passwords and the stored form of API-key hashes (secrets/secrets.h).
//
// Input: a PHC string, or "phc\0options". Invariants: a string either
// parses (needs_rehash answers) or is refused with 22023/54000/22P02, never
// anything else; a refused string is refused by verify too (verify parses
// first, so a hostile stored hash never reaches libargon2); stored API-key
// hashes are checked before any HMAC.
#include <string>

#include "base/error.h"
#include "fuzz.h"
#include "secrets/secrets.h"

using namespace vigil;
namespace secrets = vigil::core::secrets;

namespace {

bool Expected(core::ErrorCode c) {
  return c == core::ErrorCode::kInvalidParameter || c == core::ErrorCode::kProgramLimit ||
         c == core::ErrorCode::kInvalidText;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto parts = fuzz::Split(fuzz::Text(data, size), 2);
  secrets::PasswordPolicy policy;
  if (parts.size() > 1) {
    try {
      policy = secrets::ParsePolicy(parts[1]);
    } catch (const core::Error& e) {
      fuzz::Check(Expected(e.code()), "options refused with an unexpected code");
    }
  }
  bool parsed = true;
  try {
    (void)secrets::PasswordNeedsRehash(parts[0], policy);
  } catch (const core::Error& e) {
    fuzz::Check(e.code() == core::ErrorCode::kInvalidParameter, "a PHC string refused with an unexpected code");
    parsed = false;
  }
  if (!parsed) {
    // Refused by the parser: verify refuses it too, before libargon2.
    try {
      (void)secrets::PasswordVerify("password", parts[0]);
      fuzz::Check(false, "verify accepted what the parser refused");
    } catch (const core::Error& e) {
      fuzz::Check(e.code() == core::ErrorCode::kInvalidParameter, "verify refused with an unexpected code");
    }
  }
  try {
    (void)secrets::ApiKeyVerify("vk_key", parts[0], "fuzz-secret-0123456789");
  } catch (const core::Error& e) {
    fuzz::Check(e.code() == core::ErrorCode::kInvalidParameter, "a stored API-key hash refused with an unexpected code");
  }
  return 0;
}
