// entry.cc — sealing and verifying audit entries (see entry.h and
// docs/audit.md).
#include "audit/entry.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/cancel.h"
#include "base/error.h"
#include "base/json.h"
#include "base/text.h"
#include "base/core_guard.h"

namespace vigil::core::audit {
namespace {

using nlohmann::json;

constexpr std::string_view kOperations[] = {"INSERT", "UPDATE", "DELETE", "TRUNCATE", "DDL", "ERASE", "PURGE",
                                            "SELECT"};

// The entry's fields in the order the encoding needs them: keys sorted by
// their bytes (tests check the order). kind: s string, d number, j JSON
// text, h row image digest.
struct Field {
  std::string_view key;
  char kind;
  const Text* (*get)(const Entry&, Text& scratch);
};

const Text* Str(const std::string& s, Text& scratch) {
  scratch = s;
  return &scratch;
}

Text Digest1(const Text& image, const Text& stored) { return RowImageDigest(image, stored); }

const Field kFields[] = {
    {"actor", 's', [](const Entry& e, Text&) { return &e.actor; }},
    {"application_name", 's', [](const Entry& e, Text&) { return &e.application_name; }},
    {"at", 's', [](const Entry& e, Text& t) { return Str(e.at, t); }},
    {"changed_columns", 'j', [](const Entry& e, Text&) { return &e.changed_columns; }},
    {"client_addr", 's', [](const Entry& e, Text&) { return &e.client_addr; }},
    {"detail", 'j', [](const Entry& e, Text&) { return &e.detail; }},
    {"effective_role", 's', [](const Entry& e, Text&) { return &e.effective_role; }},
    {"id", 'd', [](const Entry& e, Text& t) { return Str(std::to_string(e.id), t); }},
    {"new_row", 'h', [](const Entry& e, Text& t) {
       t = Digest1(e.new_row, e.new_digest);
       return static_cast<const Text*>(&t);
     }},
    {"old_row", 'h', [](const Entry& e, Text& t) {
       t = Digest1(e.old_row, e.old_digest);
       return static_cast<const Text*>(&t);
     }},
    {"operation", 's', [](const Entry& e, Text& t) { return Str(e.operation, t); }},
    {"row_key", 'j', [](const Entry& e, Text&) { return &e.row_key; }},
    {"session_role", 's', [](const Entry& e, Text&) { return &e.session_role; }},
    {"statement", 's', [](const Entry& e, Text&) { return &e.statement; }},
    {"table_name", 's', [](const Entry& e, Text&) { return &e.table_name; }},
    {"table_schema", 's', [](const Entry& e, Text&) { return &e.table_schema; }},
    {"txid", 'd', [](const Entry& e, Text&) { return &e.txid; }},
};

// EncodeStored is the encoding of a JSON column as stored. Whatever a
// trigger could store must seal: a value the encoder cannot read (a number
// beyond its decimals, nesting deeper than its bound, text that is not
// JSON, e.g. invalid UTF-8 from SQLite) is encoded as its text under the
// tag 'x' — deterministic, so it verifies the same way, and never mistaken
// for a JSON value. A cancel still ends the call.
std::string EncodeStoredImpl(std::string_view text) {
  std::string out;
  bool ok = true;
  try {
    out = Encode(text);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kCanceled) throw;
    ok = false;
  }
  if (ok) return out;
  out = "x";
  AppendString(out, text);
  return out;
}

std::string Encoding(const Entry& e) {
  std::string out;
  AppendHeader(out, 'o', std::size(kFields));
  Text scratch;
  for (const Field& f : kFields) {
    AppendString(out, f.key);
    const Text* v = f.get(e, scratch);
    if (!v->has_value()) {
      out += 'n';
    } else if (f.kind == 'd') {
      AppendNumber(out, **v);
    } else if (f.kind == 'j') {
      out += EncodeStoredImpl(**v);
    } else {
      AppendString(out, **v);
    }
  }
  return out;
}

std::string Quote(std::string_view s) { return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string EncodeStored(std::string_view text) { return EncodeStoredImpl(text); }

Entry EntryFromColumns(const std::vector<Text>& c) {
  if (c.size() < kEntryColumnCount) throw Error(ErrorCode::kInternal, "audit: an entry row has too few columns");
  Entry e;
  e.id = std::strtoll(c[0].value_or("0").c_str(), nullptr, 10);
  e.at = c[1].value_or("");
  e.session_role = c[2];
  e.effective_role = c[3];
  e.actor = c[4];
  e.application_name = c[5];
  e.client_addr = c[6];
  e.txid = c[7];
  e.table_schema = c[8];
  e.table_name = c[9];
  e.operation = c[10].value_or("");
  e.row_key = c[11];
  e.old_row = c[12];
  e.new_row = c[13];
  e.old_digest = c[14];
  e.new_digest = c[15];
  e.changed_columns = c[16];
  e.statement = c[17];
  e.detail = c[18];
  return e;
}

bool IsOperation(std::string_view op) noexcept {
  return std::find(std::begin(kOperations), std::end(kOperations), op) != std::end(kOperations);
}

Text RowImageDigest(const Text& image, const Text& stored_digest) {
  if (image) return Hex(Sha256("vigil-audit-row-v1" + EncodeStoredImpl(*image)));
  return stored_digest;
}

std::string EntryJson(const Entry& e) {
  std::string out = "{";
  Text scratch;
  bool first = true;
  for (const Field& f : kFields) {
    if (!first) out += ',';
    first = false;
    out += Quote(f.key);
    out += ':';
    const Text* v = f.get(e, scratch);
    if (!v->has_value()) out += "null";
    else if (f.kind == 'd' || f.kind == 'j') out += **v;
    else out += Quote(**v);
  }
  out += '}';
  return out;
}

Entry EntryFromJson(std::string_view entry_json) {
  json_in::Numbers numbers;
  json v = json_in::ParseInput(entry_json, "entry", &numbers);
  if (!v.is_object()) throw Error(ErrorCode::kInvalidParameter, "an audit entry must be a JSON object");
  auto text = [&](const char* k) -> Text {
    auto it = v.find(k);
    if (it == v.end() || it->is_null()) return std::nullopt;
    if (!it->is_string())
      throw Error(ErrorCode::kInvalidParameter, std::string("audit entry: \"") + k + "\" must be a string or null");
    return it->get<std::string>();
  };
  auto doc = [&](const char* k) -> Text {
    auto it = v.find(k);
    if (it == v.end() || it->is_null()) return std::nullopt;
    json_in::Numbers sub;
    std::string prefix = json_in::PointerTo(k);
    for (const auto& [path, spelling] : numbers)
      if (path.compare(0, prefix.size(), prefix) == 0 && (path.size() == prefix.size() || path[prefix.size()] == '/'))
        sub[path.substr(prefix.size())] = spelling;
    return json_in::Dump(*it, sub);
  };
  Entry e;
  auto id = v.find("id");
  if (id == v.end() || !id->is_number_integer())
    throw Error(ErrorCode::kInvalidParameter, "audit entry: \"id\" must be an integer");
  e.id = id->get<std::int64_t>();
  e.at = text("at").value_or("");
  e.session_role = text("session_role");
  e.effective_role = text("effective_role");
  e.actor = text("actor");
  e.application_name = text("application_name");
  e.client_addr = text("client_addr");
  if (auto t = v.find("txid"); t != v.end() && !t->is_null()) {
    if (!t->is_number_integer()) throw Error(ErrorCode::kInvalidParameter, "audit entry: \"txid\" must be an integer");
    e.txid = t->dump();
  }
  e.table_schema = text("table_schema");
  e.table_name = text("table_name");
  e.operation = text("operation").value_or("");
  e.row_key = doc("row_key");
  e.old_row = doc("old_row");
  e.new_row = doc("new_row");
  e.old_digest = text("old_digest");
  e.new_digest = text("new_digest");
  e.changed_columns = doc("changed_columns");
  e.statement = text("statement");
  e.detail = doc("detail");
  if (!IsOperation(e.operation)) throw Error(ErrorCode::kInvalidParameter, "audit entry: unknown \"operation\"");
  return e;
}

std::string EntryDigestHex(std::string_view entry_json) { return Hex(EntryDigestOf(Encoding(EntryFromJson(entry_json)))); }


std::string Seal(const std::optional<std::string>& previous_hex, const Entry& e,
                 std::optional<std::string_view> key) {
  std::optional<Digest> prev;
  if (previous_hex) {
    prev = FromHex(*previous_hex);
    if (!prev) throw Error(ErrorCode::kInvalidText, "audit: a chain hash is not 64 hexadecimal digits");
  }
  if (!IsOperation(e.operation)) throw Error(ErrorCode::kInvalidParameter, "audit: unknown operation");
  return Hex(Link(prev, EntryDigestOf(Encoding(e)), key));
}

std::string Redact(std::string_view value_json, std::optional<std::string_view> key) {
  std::string bytes = "vigil-audit-redact-v1";
  bytes += Encode(value_json);
  if (key) return "hmac-sha256:" + Hex(hash::HmacSha256(*key, bytes));
  return "sha256:" + Hex(Sha256(bytes));
}

void CheckKey(std::string_view key) {
  if (key.size() < 16)
    throw Error(ErrorCode::kInvalidParameter, "audit key must be at least 16 bytes", "", "use a random secret, e.g. openssl rand -hex 32");
}

// ---- options ----------------------------------------------------------------------

Options ParseOptions(std::string_view text, const std::vector<std::string>* columns, bool stored) {
  Options o;
  if (text.empty()) return o;
  json v = json_in::ParseInput(text, "audit options");
  if (v.is_null()) return o;
  if (!v.is_object()) throw Error(ErrorCode::kInvalidParameter, "audit options must be a JSON object");
  auto names = [&](const json& list, const char* what) {
    if (!list.is_array())
      throw Error(ErrorCode::kInvalidParameter, std::string("audit option ") + what + " must be an array of column names");
    std::vector<std::string> out;
    for (const json& c : list) {
      if (!c.is_string())
        throw Error(ErrorCode::kInvalidParameter, std::string("audit option ") + what + " must be an array of column names");
      const std::string& name = c.get_ref<const std::string&>();
      if (columns && std::find(columns->begin(), columns->end(), name) == columns->end())
        throw Error(ErrorCode::kUndefinedColumn, "column \"" + text::ForMessage(name, 64) + "\" does not exist");
      out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  };
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() == "exclude") {
      o.exclude = names(it.value(), "exclude");
    } else if (it.key() == "redact") {
      o.redact = names(it.value(), "redact");
    } else if (stored && it.key() == "attnums" && it.value().is_object()) {
      for (auto a = it.value().begin(); a != it.value().end(); ++a)
        if (a.value().is_number_integer()) o.attnums.emplace_back(a.key(), a.value().get<int>());
    } else if (it.key() == "statement") {
      if (!it.value().is_boolean()) throw Error(ErrorCode::kInvalidParameter, "audit option statement must be true or false");
      o.statement = it.value().get<bool>();
    } else if (it.key() == "reads") {
      if (!it.value().is_boolean()) throw Error(ErrorCode::kInvalidParameter, "audit option reads must be true or false");
      o.reads = it.value().get<bool>();
    } else {
      throw Error(ErrorCode::kInvalidParameter, "unknown audit option \"" + text::ForMessage(it.key(), 64) + "\"", "", "the options are exclude, redact, statement and reads");
    }
  }
  for (const std::string& c : o.redact)
    if (std::binary_search(o.exclude.begin(), o.exclude.end(), c))
      throw Error(ErrorCode::kInvalidParameter, "column \"" + text::ForMessage(c, 64) + "\" is both excluded and redacted");
  return o;
}

std::string OptionsJson(const Options& o) {
  json v = json::object();
  v["exclude"] = o.exclude;
  v["redact"] = o.redact;
  v["statement"] = o.statement;
  if (o.reads) v["reads"] = true;
  if (!o.attnums.empty()) {
    json a = json::object();
    for (const auto& [name, num] : o.attnums) a[name] = num;
    v["attnums"] = a;
  }
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- verification -------------------------------------------------------------------

Verifier::Verifier(std::int64_t from_seq, std::optional<std::string> from_hash, std::int64_t head_seq,
                   std::optional<std::string> head_hash, std::optional<std::string> key,
                   std::optional<std::string> expected_head)
    : next_seq_(from_seq + 1),
      prev_(from_hash),
      from_hash_(std::move(from_hash)),
      expected_(std::move(expected_head)),
      head_seq_(head_seq),
      head_hash_(std::move(head_hash)),
      key_(std::move(key)),
      from_seq_(from_seq) {}

void Verifier::Fail(std::int64_t seq, std::optional<std::int64_t> id, const std::string& problem) {
  if (failed_) return;
  failed_ = true;
  json f = json::object();
  f["seq"] = seq;
  f["id"] = id ? json(*id) : json(nullptr);
  f["problem"] = problem;
  failure_ = f.dump();
}

bool Verifier::Feed(std::int64_t seq, const Entry& e, const std::string& stored_hash) {
  if (failed_) return false;
  if ((checked_ & 1023) == 0) PollCancel();
  if (seq != next_seq_) {
    if (seq > next_seq_) Fail(next_seq_, std::nullopt, "missing");
    else Fail(seq, e.id, "duplicate");
    return false;
  }
  std::string link;
  bool ok = true;
  try {
    link = Seal(prev_, e, key_ ? std::optional<std::string_view>(*key_) : std::nullopt);
  } catch (const Error& err) {
    // A stored value that is not JSON, a digest or hash that is not hex:
    // the entry was changed (vigil writes none of these).
    if (err.code() == ErrorCode::kCanceled) throw;
    ok = false;
  }
  if (!ok || link != stored_hash) {
    Fail(seq, e.id, "changed");
    return false;
  }
  ++checked_;
  if (expected_ && stored_hash == *expected_) expected_seen_ = true;
  prev_ = stored_hash;
  ++next_seq_;
  return true;
}

std::string Verifier::Report(std::int64_t unsealed) {
  std::int64_t last = next_seq_ - 1;
  if (!failed_ && head_seq_ > last) Fail(last + 1, std::nullopt, "missing");
  if (!failed_ && head_seq_ == last && head_seq_ > from_seq_ && head_hash_ && prev_ != head_hash_)
    Fail(last, std::nullopt, "changed");
  if (!failed_ && head_seq_ < last && head_seq_ >= 0) Fail(head_seq_ + 1, std::nullopt, "beyond the recorded head");
  // A head kept outside the database must be a link of the chain checked
  // (the newest one when nothing was sealed since): entries removed from
  // the end, or a chain rebuilt after a change, lose it.
  bool head_matches = !expected_ || expected_seen_ || (from_hash_ && *from_hash_ == *expected_);
  json r = json::object();
  r["valid"] = !failed_ && head_matches;
  r["checked"] = checked_;
  r["from_seq"] = from_seq_;
  r["through_seq"] = failed_ ? json(nullptr) : json(last);
  r["head"] = failed_ || !prev_ ? json(nullptr) : json(*prev_);
  r["unsealed"] = unsealed;
  r["first_invalid"] = failed_ ? json::parse(failure_) : json(nullptr);
  if (expected_) r["expected_head_found"] = !failed_ && head_matches;
  r["keyed"] = key_.has_value();
  return r.dump();
}

}  // namespace vigil::core::audit
