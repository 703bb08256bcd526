// secrets_sqlite.cc — passwords and API keys on SQLite (issue 14; the core
// is common/secrets/). The API-key secret is the connection's: set by
// vigil_api_key_secret(secret) or taken from VIGIL_API_KEY_SECRET, kept in
// memory and never written to the file. The API-key functions are
// DIRECTONLY (the function table's "uses a secret"): a view or trigger of
// an untrusted file cannot obtain keyed hashes.
#include <sqlite3ext.h>

#include <optional>
#include <string_view>

#include "boundary.h"
#include "module_sqlite.h"
#include "secrets/secrets.h"

namespace vigil::sqlite {
namespace {

namespace core = vigil::core;
namespace secrets = vigil::core::secrets;

std::optional<std::string_view> OptionalText(int argc, sqlite3_value** argv, int i) {
  if (i >= argc || sqlite3_value_type(argv[i]) == SQLITE_NULL) return std::nullopt;
  return Text(argv[i]);
}

std::string_view Secret(sqlite3_context* ctx) {
  std::optional<std::string_view> s = ConnectionApiSecret(UserData(ctx));
  if (!s)
    throw core::Error(core::ErrorCode::kPrerequisite, "no API-key secret is configured", {},
                      "call vigil_api_key_secret(secret) or set VIGIL_API_KEY_SECRET (docs/secrets.md)");
  return *s;
}

void PasswordHash(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  ResultText(ctx, secrets::PasswordHash(Text(argv[0]), secrets::ParsePolicy(OptionalText(argc, argv, 1))));
}

void PasswordVerify(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  sqlite3_result_int(ctx, secrets::PasswordVerify(Text(argv[0]), Text(argv[1])) ? 1 : 0);
}

void PasswordNeedsRehash(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  sqlite3_result_int(
      ctx, secrets::PasswordNeedsRehash(Text(argv[0]), secrets::ParsePolicy(OptionalText(argc, argv, 1))) ? 1 : 0);
}

void ApiKeyGenerate(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  ResultText(ctx, secrets::ApiKeyGenerate(Text(argv[0])));
}

void ApiKeyHash(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  ResultText(ctx, secrets::ApiKeyHash(Text(argv[0]), Secret(ctx)));
}

void ApiKeyVerify(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  sqlite3_result_int(ctx, secrets::ApiKeyVerify(Text(argv[0]), Text(argv[1]), Secret(ctx)) ? 1 : 0);
}

// vigil_api_key_secret(secret) -> 1 (NULL forgets it: 0).
void ApiKeySecret(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    SetConnectionApiSecret(UserData(ctx), std::nullopt);
    return sqlite3_result_int(ctx, 0);
  }
  std::string_view secret = Text(argv[0]);
  secrets::CheckSecret(secret);
  SetConnectionApiSecret(UserData(ctx), secret);
  sqlite3_result_int(ctx, 1);
}

const Impl kImpls[] = {
    {"vigil_password_hash", Bridge<PasswordHash>, nullptr, false, false},
    {"vigil_password_verify", Bridge<PasswordVerify>, nullptr, false, false},
    {"vigil_password_needs_rehash", Bridge<PasswordNeedsRehash>, nullptr, false, false},
    {"vigil_api_key_generate", Bridge<ApiKeyGenerate>, nullptr, false, false},
    {"vigil_api_key_hash", Bridge<ApiKeyHash>, nullptr, false, true},
    {"vigil_api_key_verify", Bridge<ApiKeyVerify>, nullptr, false, true},
    {"vigil_api_key_secret", Bridge<ApiKeySecret>, nullptr, false, true},
};

}  // namespace

std::span<const Impl> SecretImpls() { return kImpls; }

}  // namespace vigil::sqlite
