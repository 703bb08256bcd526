// secrets_pg.cc — passwords and API keys on PostgreSQL (issue 14; the core
// is common/secrets/). The API-key secret is the server's: the first line
// of vigil_api_key.key in the data directory (mode 0600), else the
// superuser-only setting vigil.api_key_secret; never a value SQL can read.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
}

#include <optional>
#include <string_view>

#include "secrets/secrets.h"

namespace core = vigil::core;
namespace secrets = vigil::core::secrets;
using vigil::pg::ArgText;
using vigil::pg::Run;

namespace {

char* api_key_secret_setting = nullptr;
constexpr const char* kSecretFile = "vigil_api_key.key";

// Secret is the API-key secret, or 55000 naming where to put one. Engine
// code (phase 1).
std::string_view Secret() {
  int len = 0;
  const char* s = vigil::pg::ServerSecret(kSecretFile, api_key_secret_setting, "API-key secret", &len);
  if (s == nullptr)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("no API-key secret is configured"),
                    errhint("Put a random secret in %s in the data directory (mode 0600) or set "
                            "vigil.api_key_secret in postgresql.conf (docs/secrets.md).", kSecretFile)));
  return std::string_view(s, static_cast<std::size_t>(len));
}

// Options is the jsonb argument as text, or nullopt (NULL or absent).
std::optional<std::string_view> Options(FunctionCallInfo fcinfo, int arg) {
  if (PG_NARGS() <= arg || PG_ARGISNULL(arg)) return std::nullopt;
  char* text = JsonbToCString(nullptr, &PG_GETARG_JSONB_P(arg)->root, -1);
  return std::string_view(text);
}

}  // namespace

void vigil::pg::DefineSecretSettings() {
  DefineCustomStringVariable("vigil.api_key_secret",
                             "Secret of API-key hashes (vigil_api_key_hash), unless the data directory holds "
                             "vigil_api_key.key.",
                             nullptr, &api_key_secret_setting, "", PGC_SIGHUP,
                             GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
}

// vigil_password_hash(password text, options jsonb DEFAULT NULL) -> PHC string.
VIGIL_PG_FUNCTION(vigil_password_hash) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  std::string_view password = ArgText(PG_GETARG_TEXT_PP(0));
  std::optional<std::string_view> options = Options(fcinfo, 1);
  PG_RETURN_TEXT_P(Run([&] {
    return vigil::pg::MakeText(secrets::PasswordHash(password, secrets::ParsePolicy(options)));
  }));
}

// vigil_password_verify(password text, hash text) -> boolean.
VIGIL_PG_FUNCTION(vigil_password_verify) {
  std::string_view password = ArgText(PG_GETARG_TEXT_PP(0));
  std::string_view phc = ArgText(PG_GETARG_TEXT_PP(1));
  PG_RETURN_BOOL(Run([&] { return secrets::PasswordVerify(password, phc); }));
}

// vigil_password_needs_rehash(hash text, options jsonb DEFAULT NULL) -> boolean.
VIGIL_PG_FUNCTION(vigil_password_needs_rehash) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  std::string_view phc = ArgText(PG_GETARG_TEXT_PP(0));
  std::optional<std::string_view> options = Options(fcinfo, 1);
  PG_RETURN_BOOL(Run([&] { return secrets::PasswordNeedsRehash(phc, secrets::ParsePolicy(options)); }));
}

// vigil_api_key_generate(prefix text) -> a new key.
VIGIL_PG_FUNCTION(vigil_api_key_generate) {
  std::string_view prefix = ArgText(PG_GETARG_TEXT_PP(0));
  PG_RETURN_TEXT_P(Run([&] { return vigil::pg::MakeText(secrets::ApiKeyGenerate(prefix)); }));
}

// vigil_api_key_hash(key text) -> "hmac-sha256$..." under the server's secret.
VIGIL_PG_FUNCTION(vigil_api_key_hash) {
  std::string_view key = ArgText(PG_GETARG_TEXT_PP(0));
  std::string_view secret = Secret();
  PG_RETURN_TEXT_P(Run([&] { return vigil::pg::MakeText(secrets::ApiKeyHash(key, secret)); }));
}

// vigil_api_key_verify(key text, hash text) -> boolean.
VIGIL_PG_FUNCTION(vigil_api_key_verify) {
  std::string_view key = ArgText(PG_GETARG_TEXT_PP(0));
  std::string_view stored = ArgText(PG_GETARG_TEXT_PP(1));
  std::string_view secret = Secret();
  PG_RETURN_BOOL(Run([&] { return secrets::ApiKeyVerify(key, stored, secret); }));
}

// vigil_api_key_secret(secret text): SQLite's per-connection secret.
VIGIL_PG_FUNCTION(vigil_api_key_secret) {
  ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                  errmsg("vigil_api_key_secret() is SQLite's: PostgreSQL reads the API-key secret from the server"),
                  errhint("Put the secret in vigil_api_key.key in the data directory (mode 0600) or set "
                          "vigil.api_key_secret in postgresql.conf (docs/secrets.md).")));
  PG_RETURN_NULL();
}

// Backups are SQLite's: a PostgreSQL cluster is backed up by its own tools.
namespace {
[[noreturn]] void NoBackups(const char* name) {
  ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                  errmsg("%s() is SQLite's: back up PostgreSQL with pgBackRest or pg_basebackup", name),
                  errhint("A cluster's backup is a base backup plus its WAL archive, taken by the server's own "
                          "tools; vigil's health checks report WAL-archiving failures (docs/secrets.md).")));
}
}  // namespace

VIGIL_PG_FUNCTION(vigil_backup) { NoBackups("vigil_backup"); }
VIGIL_PG_FUNCTION(vigil_backup_verify) { NoBackups("vigil_backup_verify"); }
VIGIL_PG_FUNCTION(vigil_restore) { NoBackups("vigil_restore"); }
