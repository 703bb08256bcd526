// entry.h — one audit entry as both engines seal and verify it (SPEC §5,
// issue 13; docs/audit.md "Entries").
//
// An entry is a row of vigil_audit_log. Both engines hand its columns to
// this file as text (JSON columns as JSON text, numbers as decimal text,
// the time as UTC "YYYY-MM-DDTHH:MM:SS.ffffffZ"), and get back the chain
// link that seals it: the same bytes on PostgreSQL and SQLite, because the
// entry is hashed through the canonical encoding (canonical.h), never
// through either engine's JSON text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/canonical.h"

namespace vigil::core::audit {

using Text = std::optional<std::string>;

// Entry holds the columns of vigil_audit_log that the chain covers. A row
// image is given either as JSON text or, once erased, by its stored
// digest (hex); both absent means the entry has no such image (an INSERT
// has no old row).
struct Entry {
  std::int64_t id = 0;
  std::string at;          // UTC, microseconds
  Text session_role, effective_role, actor, application_name, client_addr;
  Text txid;               // decimal (PostgreSQL's full transaction id)
  Text table_schema, table_name;
  std::string operation;   // INSERT UPDATE DELETE TRUNCATE DDL ERASE PURGE SELECT
  Text row_key;            // JSON object text
  Text old_row, new_row;   // JSON object text
  Text old_digest, new_digest;  // hex, kept when the image was erased
  Text changed_columns;    // JSON array text
  Text statement;          // normalised
  Text detail;             // JSON object text (DDL, ERASE, PURGE)
};

// EncodeStored is the canonical encoding of a JSON column as stored; a
// value the encoder cannot read (deeper than its bound, a number beyond
// its decimals, not JSON at all) is encoded as its text under the tag 'x',
// so whatever a trigger stored can be sealed and verified.
std::string EncodeStored(std::string_view text);

// EntryFromColumns reads an entry from the log's columns in this order (the
// first 19 of `columns`; both engines select them so): id, at,
// session_role, effective_role, actor, application_name, client_addr,
// txid, table_schema, table_name, operation, row_key, old_row, new_row,
// old_digest, new_digest, changed_columns, statement, detail.
constexpr std::size_t kEntryColumnCount = 19;
Entry EntryFromColumns(const std::vector<Text>& columns);

// Operations, as stored.
bool IsOperation(std::string_view op) noexcept;

// RowImageDigest is the digest an image contributes (hex): computed from
// the image when present, else the stored digest; nullopt when neither.
// Throws Error(kInvalidText) for an image that is not JSON.
Text RowImageDigest(const Text& image, const Text& stored_digest);

// EntryJson is the JSON object the entry digest covers: every field above,
// with the row images replaced by their digests (docs/audit.md lists the
// keys). Exposed for tests and the cross-engine check.
std::string EntryJson(const Entry& e);

// EntryDigestHex is the entry digest of an entry given as a JSON object
// with the log's columns (row images as JSON, "at" as the chain writes it;
// other keys such as seq and entry_hash are ignored): vigil_audit_digest.
std::string EntryDigestHex(std::string_view entry_json);
Entry EntryFromJson(std::string_view entry_json);

// Seal is the chain link of `e` after `previous` (hex; nullopt for the
// first entry), HMAC-SHA256 under `key` when given. Returns hex.
std::string Seal(const std::optional<std::string>& previous_hex, const Entry& e,
                 std::optional<std::string_view> key);

// Redact is what a redacted column stores instead of its value (JSON text
// of the value): "hmac-sha256:<hex>" under the audit key, else
// "sha256:<hex>" — equal values keep equal digests, so a change shows,
// and the value itself never reaches the log.
std::string Redact(std::string_view value_json, std::optional<std::string_view> key);

// CheckKey refuses a key shorter than 16 bytes (22023): an HMAC key is a
// secret, not a password.
void CheckKey(std::string_view key);

// ---- options of vigil_audit_enable ---------------------------------------------

struct Options {
  std::vector<std::string> exclude;  // columns left out of row images
  std::vector<std::string> redact;   // columns stored as Redact() digests
  bool statement = false;            // keep the normalised statement text
  bool reads = false;                // record SELECTs too (PostgreSQL, preloaded)
  // PostgreSQL's stored form only: the attribute number each named column
  // had when audit was enabled, so a renamed column fails closed.
  std::vector<std::pair<std::string, int>> attnums;
};

// ParseOptions reads {"exclude": [...], "redact": [...], "statement": bool}
// (every key optional; NULL or "" means {}); each column must be one of
// `columns` when given (42703 otherwise) and a column may not be both excluded and
// redacted (22023). Unknown keys are refused (22023).
// `stored`: the form vigil wrote into a trigger, which may carry "attnums".
Options ParseOptions(std::string_view json_text, const std::vector<std::string>* columns, bool stored = false);
// OptionsJson is the stored, canonical form of options (sorted, no duplicates).
std::string OptionsJson(const Options& o);

// ---- verification -------------------------------------------------------------

// Verifier walks the chain in order. Feed entries by ascending seq; it
// stops recording at the first problem. Report() is the JSON that
// vigil_audit_verify returns.
class Verifier {
 public:
  // from_seq/from_hash: the checkpoint left by a purge (0 / nullopt when
  // the chain starts at its beginning). head_seq/head_hash: the newest
  // sealed entry as recorded apart from the log (0 / nullopt when none).
  // expected_head: a head kept outside the database, which must be one of
  // the chain's links (or the checkpoint's).
  Verifier(std::int64_t from_seq, std::optional<std::string> from_hash, std::int64_t head_seq,
           std::optional<std::string> head_hash, std::optional<std::string> key,
           std::optional<std::string> expected_head);
  // Feed one sealed entry. Returns false once a problem has been found
  // (the caller may stop reading).
  bool Feed(std::int64_t seq, const Entry& e, const std::string& stored_hash);
  // Report checks that the chain reached the recorded head and returns
  // the JSON of vigil_audit_verify; `unsealed` is reported as given.
  std::string Report(std::int64_t unsealed);

 private:
  void Fail(std::int64_t seq, std::optional<std::int64_t> id, const std::string& problem);
  std::int64_t next_seq_;
  std::optional<std::string> prev_;
  std::optional<std::string> from_hash_;
  std::optional<std::string> expected_;
  bool expected_seen_ = false;
  std::int64_t head_seq_;
  std::optional<std::string> head_hash_;
  std::optional<std::string> key_;
  std::int64_t checked_ = 0;
  std::int64_t from_seq_;
  bool failed_ = false;
  std::string failure_;  // JSON object
};

}  // namespace vigil::core::audit
