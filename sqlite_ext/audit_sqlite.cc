// audit_sqlite.cc — the audit trail for SQLite (SPEC §5, issue 13;
// docs/audit.md).
//
// vigil_audit_enable generates three AFTER triggers per table; each writes
// its entry with one plain INSERT, as cheap as a trigger can be. Entries are
// sealed into the chain afterwards, by the core's SealPending (the same
// code as PostgreSQL's) when the application calls vigil_audit_seal() or
// vigil_audit_head(), and before a purge or an erasure. SQLite has one
// writer at a time, so ids are given in commit order and the entries not
// sealed yet are those after the newest sealed one.
//
// The connection's actor and audit key live in this module's memory, never
// in the file. A file's schema may be hostile (docs/security.md): its own
// triggers or views could call vigil_audit_redact to learn keyed digests,
// so vigil_audit_key refuses a file whose schema mentions vigil_audit
// anywhere but in vigil's own generated triggers, and vigil_audit_verify
// reports such objects.
#include <sqlite3ext.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include "audit/entry.h"
#include "audit/staged.h"
#include "audit/trail.h"
#include "base/cancel.h"
#include "base/json.h"
#include "secrets/secrets.h"
#include "boundary.h"
#include "module_sqlite.h"
#include "schema_sqlite.h"
#include "sql/lexer.h"
#include "sql/normalize.h"
#include "sqlite_util.h"

namespace vigil::sqlite {
namespace {

namespace audit = core::audit;
namespace staged = core::audit::staged;

// ---- the connection's audit state --------------------------------------------------

// The connection's state: the actor and audit key here, and the API-key
// secret of secrets_sqlite.cc (ConnectionApiSecret).
struct Capture;

// What the connection's capture tables share within a transaction: entries
// are numbered across both, in the order they are captured, and batches are
// numbered from one base.
struct CaptureTx {
  std::int64_t ordinal = 0;   // of the next entry (rolled-back ones leave gaps)
  std::int64_t id_base = -1;  // this transaction's, from its first write
  int last_slot = -1;         // the table that took the newest entry
  std::int64_t own_floor = -1;  // the lowest base this transaction used
  // The statement's time, read at its first entry: SQLite's 'now' is the
  // statement's too. A statement starts a transaction (xBegin of the first
  // table) or, inside one, opens a savepoint (xSavepoint): both forget it.
  std::int64_t statement_at = 0;
  bool statement_at_known = false;
};

struct AuditState {
  int refs = 0;
  // The connection's vigil_audit_capture8 and vigil_audit_capture, once used.
  Capture* captures[2] = {nullptr, nullptr};
  CaptureTx tx;
  // A capture table is writing batches: SQLite's savepoint calls meanwhile
  // are its INSERT's, and no table's marks or statement time move for them.
  bool writing = false;
  sqlite3* db = nullptr;  // its statement monitor goes with it (RemoveMonitor)
  std::optional<std::string> actor;
  std::optional<std::string> key;
  bool env_read = false;  // VIGIL_AUDIT_KEY looked at
  std::optional<std::string> api_secret;
  bool api_env_read = false;  // VIGIL_API_KEY_SECRET looked at
  // The last statement normalised for the log, and its form: a statement
  // that changes many rows is normalised once.
  std::string last_sql, last_normalized;
};

AuditState* State(sqlite3_context* ctx) { return static_cast<AuditState*>(UserData(ctx)); }

std::vector<std::string> ForeignObjects(sqlite3* db);
bool HasLog(sqlite3* db);

// RefuseForeign refuses a key while the file's own objects call the audit
// functions: they could obtain keyed digests.
void RefuseForeign(sqlite3* db) {
  if (!HasLog(db)) return;
  std::vector<std::string> foreign = ForeignObjects(db);
  if (!foreign.empty())
    throw Error(ErrorCode::kPrerequisite,
                "this file's schema calls vigil's audit functions outside vigil's triggers: " + foreign[0], {},
                "Drop the object: it could learn keyed digests. vigil_audit_verify() lists them all.");
}

// KeyOf is the connection's key: set with vigil_audit_key, else taken from
// the environment variable VIGIL_AUDIT_KEY on first use (checked as
// vigil_audit_key checks it).
std::optional<std::string_view> KeyOf(sqlite3* db, AuditState* s) {
  if (s == nullptr) return std::nullopt;
  if (!s->key && !s->env_read) {
    s->env_read = true;
    if (const char* env = std::getenv("VIGIL_AUDIT_KEY"); env != nullptr && *env != '\0') {
      audit::CheckKey(env);
      RefuseForeign(db);
      s->key = std::string(env);
    }
  }
  if (!s->key) return std::nullopt;
  return std::string_view(*s->key);
}

constexpr std::size_t kMaxActor = 1024;

// ---- generated triggers ----------------------------------------------------------

std::string TriggerName(const char* op, const std::string& table) {
  std::string name = "vigil_audit_";
  name.append(op).append(":").append(table);
  return name;
}

// ValueExpr is a value as PostgreSQL's to_jsonb spells the same value: a
// blob as "\x<hex>" (bytea), an infinite real as "Infinity", a real with
// every digit that tells it apart. `r` is the SQL that reads it: a
// trigger's OLD."c" or, when the sealer writes a staged entry, a parameter.
std::string ValueExpr(const std::string& r) {
  return "CASE typeof(" + r + ") WHEN 'blob' THEN '\\x' || lower(hex(" + r + ")) WHEN 'real' THEN iif(abs(" + r +
         ") > 1.7976931348623157e308, iif(" + r + " > 0, 'Infinity', '-Infinity'), json(quote(" + r + "))) ELSE " + r +
         " END";
}

using Ref = std::function<std::string(std::size_t column)>;

// ObjectOf is json_object over the columns, in chunks of 60 pairs joined
// as text (SQLite functions take at most 127 arguments; no chunk value
// ends in '}' outside quotes, so rtrim/ltrim remove exactly one brace).
// `names` are the object's keys; ref(i) reads the value of names[i].
std::string ObjectOf(const std::vector<std::string>& names, const Ref& ref) {
  if (names.empty()) return "'{}'";
  std::vector<std::string> chunks;
  for (std::size_t i = 0; i < names.size(); i += 60) {
    std::string obj = "json_object(";
    for (std::size_t k = i; k < names.size() && k < i + 60; ++k) {
      if (k > i) obj += ", ";
      obj += Sql("%Q, ", names[k].c_str()) + ValueExpr(ref(k));
    }
    chunks.push_back(obj + ")");
  }
  if (chunks.size() == 1) return chunks[0];
  std::string out = "json(rtrim(" + chunks[0] + ", '}')";
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    bool last = i + 1 == chunks.size();
    out += " || ',' || " + (last ? "ltrim(" + chunks[i] + ", '{')" : "trim(" + chunks[i] + ", '{}')");
  }
  return out + ")";
}

// ChangedOf is the JSON array of the columns whose values differ;
// differs(i) is the SQL that tells whether columns[i] changed.
std::string ChangedOf(const std::vector<std::string>& columns, const Ref& differs) {
  if (columns.empty()) return "'[]'";
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < columns.size(); i += 100) {
    std::string arr = "json_array(";
    for (std::size_t k = i; k < columns.size() && k < i + 100; ++k) {
      if (k > i) arr += ", ";
      arr += "iif(" + differs(k) + Sql(", %Q, NULL)", columns[k].c_str());
    }
    arr += ")";
    parts.push_back("SELECT key AS k, " + std::to_string(i) + " AS c, value FROM json_each(" + arr +
                    ") WHERE value IS NOT NULL");
  }
  std::string all;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) all += " UNION ALL ";
    all += parts[i];
  }
  return "(SELECT json_group_array(value) FROM (" + all + " ORDER BY c, k))";
}

struct TablePlan {
  std::string table;
  std::vector<std::string> columns;  // audited (not excluded), in table order
  std::vector<std::string> key;      // primary key columns present in the image
  audit::Options options;
};

TablePlan PlanFor(sqlite3* db, const std::string& table, std::string_view options_json) {
  TableShape shape = LoadTable(db, table);
  TablePlan p;
  p.table = shape.info.name;
  p.options = audit::ParseOptions(options_json, &shape.info.columns);
  for (const std::string& c : shape.info.columns)
    if (!std::binary_search(p.options.exclude.begin(), p.options.exclude.end(), c)) p.columns.push_back(c);
  for (const std::string& c : shape.primary_key)
    if (!std::binary_search(p.options.exclude.begin(), p.options.exclude.end(), c)) p.key.push_back(c);
  return p;
}

staged::Layout LayoutOf(const TablePlan& p) {
  auto utf8 = [](const std::string& name) {
    if (!core::text::IsValidUtf8(name))
      throw Error(ErrorCode::kInvalidText, "audited table and column names must be valid UTF-8: \"" +
                                               core::text::ForMessage(name, 64) + "\" is not");
  };
  utf8(p.table);
  for (const std::string& c : p.columns) utf8(c);
  staged::Layout l;
  l.table = p.table;
  l.columns = p.columns;
  l.key = p.key;
  for (const std::string& c : p.columns)
    if (std::binary_search(p.options.redact.begin(), p.options.redact.end(), c)) l.redact.push_back(c);
  return l;
}

bool Redacted(const staged::Layout& l, const std::string& column) {
  return std::find(l.redact.begin(), l.redact.end(), column) != l.redact.end();
}

staged::Op OpOf(std::string_view op) {
  if (op == "INSERT") return staged::Op::kInsert;
  if (op == "UPDATE") return staged::Op::kUpdate;
  return staged::Op::kDelete;
}

// The capture tables' columns: an entry's values arrive kCaptureValues at a
// time, one row of vigil_audit_capture per part. An entry of at most
// kNarrowValues values (an INSERT or DELETE of a table of up to 8 columns)
// goes to vigil_audit_capture8 instead, whose rows are narrower: SQLite
// fills and copies every declared column of every row, and for such tables
// the 8 unused ones cost about 3 % of an audited insert.
constexpr int kCaptureValues = 16;
constexpr int kNarrowValues = 8;
constexpr const char* kCaptureTables[2] = {"vigil_audit_capture8", "vigil_audit_capture"};

// TriggerSql is one trigger's text after "CREATE TRIGGER " (as
// sqlite_schema keeps it). The trigger computes nothing but the redacted
// values (a redacted value never reaches the file): it hands the raw
// values, its layout and its operation to vigil_audit_capture, which
// stages them (docs/audit.md "Staged entries").
std::string TriggerSql(const TablePlan& p, const char* op) {
  const std::string& t = p.table;
  staged::Layout l = LayoutOf(p);
  staged::Op o = OpOf(op);
  std::vector<std::string> values;
  auto side = [&](const char* alias) {
    for (const std::string& c : p.columns) {
      std::string r = Sql("%s.\"%w\"", alias, c.c_str());
      if (Redacted(l, c)) values.push_back("iif(" + r + " IS NULL, NULL, vigil_audit_redact(json_quote(" + ValueExpr(r) + ")))");
      else values.push_back(r);
    }
  };
  if (o != staged::Op::kInsert) side("OLD");
  if (o != staged::Op::kDelete) side("NEW");
  if (o == staged::Op::kUpdate)
    for (const std::string& c : l.redact) values.push_back(Sql("OLD.\"%w\" IS NOT NEW.\"%w\"", c.c_str(), c.c_str()));
  std::string layout = Sql("%Q", staged::LayoutJson(l).c_str());
  bool narrow = values.size() <= kNarrowValues;
  std::size_t width = std::min<std::size_t>(values.size(), kCaptureValues);
  std::string columns = "layout, operation, statement, part";
  for (std::size_t i = 0; i < width; ++i) columns += ", v" + std::to_string(i);
  std::string rows;
  std::size_t parts = std::max<std::size_t>(1, (values.size() + kCaptureValues - 1) / kCaptureValues);
  for (std::size_t part = 0; part < parts; ++part) {
    if (part) rows += ", ";
    rows += "(" + layout + ", '" + op + "', " +
            (part == 0 && p.options.statement ? "vigil_audit_statement()" : "NULL") + ", " + std::to_string(part);
    for (std::size_t i = 0; i < width; ++i) {
      std::size_t k = part * kCaptureValues + i;
      rows += ", " + (k < values.size() ? values[k] : std::string("NULL"));
    }
    rows += ")";
  }
  std::string lower = op;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string name = TriggerName(lower.c_str(), t);
  return Sql("\"%w\" AFTER %s ON \"%w\" BEGIN INSERT INTO %s (", name.c_str(), op, t.c_str(), kCaptureTables[narrow ? 0 : 1]) +
         columns + ") VALUES " + rows + "; END";
}

// ExpandSql is the statement that writes one staged entry of a layout and
// operation as a row of the log: the images, key and changed columns the
// triggers used to compute, over parameters (?1 the time as a Julian day,
// ?2 the actor, ?3 the statement, ?4... the values in capture order).
std::string ExpandSql(const staged::Layout& l, staged::Op o) {
  std::size_t n = l.columns.size();
  std::size_t old_at = 4, new_at = o == staged::Op::kInsert ? 4 : 4 + n, flags_at = 4 + 2 * n;
  auto param = [](std::size_t i) { return "?" + std::to_string(i); };
  bool has_old = o != staged::Op::kInsert, has_new = o != staged::Op::kDelete;
  auto column_index = [&](const std::string& c) {
    return static_cast<std::size_t>(std::find(l.columns.begin(), l.columns.end(), c) - l.columns.begin());
  };
  std::size_t key_at = has_old ? old_at : new_at;
  std::string key = l.key.empty() ? "NULL" : ObjectOf(l.key, [&](std::size_t i) { return param(key_at + column_index(l.key[i])); });
  std::string old_image = has_old ? ObjectOf(l.columns, [&](std::size_t i) { return param(old_at + i); }) : "NULL";
  std::string new_image = has_new ? ObjectOf(l.columns, [&](std::size_t i) { return param(new_at + i); }) : "NULL";
  std::string changed = "NULL";
  if (has_old && has_new)
    changed = ChangedOf(l.columns, [&](std::size_t i) {
      if (Redacted(l, l.columns[i])) {
        std::size_t f = static_cast<std::size_t>(std::find(l.redact.begin(), l.redact.end(), l.columns[i]) - l.redact.begin());
        return param(flags_at + f);
      }
      return param(old_at + i) + " IS NOT " + param(new_at + i);
    });
  const char* op = o == staged::Op::kInsert ? "INSERT" : o == staged::Op::kUpdate ? "UPDATE" : "DELETE";
  return Sql("INSERT INTO main.vigil_audit_log (at, actor, table_schema, table_name, operation, row_key, old_row,"
             " new_row, changed_columns, statement) VALUES (strftime('%%Y-%%m-%%dT%%H:%%M:%%f', ?1) || '000Z', ?2,"
             " 'main', %Q, '%s', ",
             l.table.c_str(), op) +
         key + ", " + old_image + ", " + new_image + ", " + changed + ", ?3)";
}

constexpr const char* kOps[] = {"INSERT", "UPDATE", "DELETE"};
constexpr const char* kOpNames[] = {"insert", "update", "delete"};

void DropTriggers(sqlite3* db, const std::string& table) {
  for (const char* op : kOpNames)
    ExecOne(db, Sql("DROP TRIGGER IF EXISTS main.\"%w\"", TriggerName(op, table).c_str()));
}

// ForeignObjects lists the schema objects that mention vigil_audit but are
// not vigil's current triggers of an audited table (nor vigil's tables).
std::vector<std::string> ForeignObjects(sqlite3* db) {
  std::vector<std::string> expected;  // "name\x01sql"
  {
    Stmt s(db, "SELECT table_name, options FROM main.vigil_audit_tables");
    while (s.Step()) {
      std::string table = s.Column(0).value_or("");
      std::optional<Error> failed = CoreError([&] {
        TablePlan p = PlanFor(db, table, s.Column(1).value_or("{}"));
        for (int i = 0; i < 3; ++i)
          expected.push_back(TriggerName(kOpNames[i], p.table) + '\x01' + "CREATE TRIGGER " + TriggerSql(p, kOps[i]));
      });
      (void)failed;  // a table gone or changed: its triggers, if any, are foreign now
    }
  }
  std::vector<std::string> foreign;
  // vigil's own tables and index are exempt only while their SQL calls no
  // audit function: a DEFAULT, CHECK or generated column of a crafted
  // vigil_audit_log could otherwise compute keyed digests on every insert.
  static constexpr const char* kFunctions[] = {"vigil_audit_redact", "vigil_audit_statement", "vigil_actor",
                                               "vigil_set_actor", "vigil_audit_key", "vigil_audit_seal",
                                               "vigil_audit_head", "vigil_audit_verify", "vigil_audit_purge",
                                               "vigil_audit_erase", "vigil_audit_digest", "vigil_audit_enable",
                                               "vigil_audit_disable", "vigil_audit_trigger",
                                               "vigil_audit_capture"};
  Stmt s(db, "SELECT type, name, sql FROM main.sqlite_schema WHERE sql LIKE '%vigil\\_audit%' ESCAPE '\\'"
             " OR sql LIKE '%vigil\\_actor%' ESCAPE '\\' OR sql LIKE '%vigil\\_set\\_actor%' ESCAPE '\\'");
  while (s.Step()) {
    std::string type = s.Column(0).value_or(""), name = s.Column(1).value_or(""), sql = s.Column(2).value_or("");
    if (type == "trigger" &&
        std::find(expected.begin(), expected.end(), name + '\x01' + sql) != expected.end())
      continue;
    bool vigils = (type == "table" && (name == "vigil_audit_log" || name == "vigil_audit_chain" ||
                                       name == "vigil_audit_tables" || name == "vigil_audit_batch")) ||
                  (type == "index" && name == "vigil_audit_log_seq");
    if (vigils) {
      std::string lower = sql;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      bool calls = false;
      for (const char* f : kFunctions) calls |= lower.find(f) != std::string::npos;
      if (!calls) continue;
    }
    foreign.push_back(type + " " + name);
  }
  return foreign;
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// ---- the capture table -------------------------------------------------------------

// Capture is vigil_audit_capture on one connection: an eponymous virtual
// table the generated triggers insert into. It keeps the transaction's
// entries not written yet in memory, encoded (staged.h) in chunks of at
// most kBatchEntries, and writes them as rows of vigil_audit_batch.
//
// Savepoints are followed (xSavepoint, xRollbackTo, xRelease; a statement
// inside a transaction opens one too): each mark remembers where the
// buffer stood and what the next entry may refer to as the previous one's
// (actor, statement, time), so what follows a mark, written apart, starts
// with that state and reads alone.
// The invariant: what
// follows the newest mark may be written at any time — a rollback to that
// mark or an older one undoes the write (SQLite rolls back the rows) and
// drops the same entries from memory — and what precedes it stays in
// memory until the mark is gone. Written entries leave memory at once.
// So entries are written:
//  - at commit (xSync, before SQLite commits; a failure fails the commit;
//    a commit retried after SQLITE_BUSY writes nothing twice);
//  - when those after the newest mark pass 1 MiB as a savepoint opens
//    (SQLite calls xSavepoint before its own savepoint exists: the write
//    belongs to the enclosing level), or pass 4 MiB after an entry;
//  - when the sealer asks (Seal, before it opens its own savepoint).
// Memory holds at most about 1 MiB a savepoint level plus 4 MiB.
// ByteBuf is the capture table's buffer: the per-row path writes into room
// it reserved (Room), without std::string's checks and zero-filling at
// every append.
class ByteBuf {
 public:
  ByteBuf() = default;
  ByteBuf(const ByteBuf&) = delete;
  ByteBuf& operator=(const ByteBuf&) = delete;
  ~ByteBuf() { std::free(p_); }
  std::size_t size() const { return n_; }
  std::size_t capacity() const { return cap_; }
  const char* data() const { return p_; }
  // Room returns where k more bytes may be written; Commit keeps them.
  char* Room(std::size_t k) {
    if (cap_ - n_ < k) Grow(k);
    return p_ + n_;
  }
  void Commit(std::size_t k) { n_ += k; }
  void Truncate(std::size_t n) { n_ = std::min(n_, n); }
  // Erase removes len bytes at pos (both within the size).
  void Erase(std::size_t pos, std::size_t len) {
    std::memmove(p_ + pos, p_ + pos + len, n_ - pos - len);
    n_ -= len;
  }
  // Clear empties it; past `keep` bytes of capacity it gives them back.
  void Clear(std::size_t keep) {
    n_ = 0;
    if (cap_ > keep) {
      std::free(p_);
      p_ = nullptr;
      cap_ = 0;
    }
  }

 private:
  void Grow(std::size_t k) {
    if (k > std::numeric_limits<std::size_t>::max() / 4 - n_) throw std::bad_alloc();
    std::size_t cap = std::max({cap_ * 2, n_ + k, std::size_t{64} << 10});
    void* p = std::realloc(p_, cap);
    if (p == nullptr) throw std::bad_alloc();
    p_ = static_cast<char*>(p);
    cap_ = cap;
  }
  char* p_ = nullptr;
  std::size_t n_ = 0, cap_ = 0;
};

struct Capture {
  sqlite3_vtab base;
  sqlite3* db = nullptr;
  AuditState* state = nullptr;
  sqlite3_vfs* vfs = nullptr;
  ByteBuf buf;
  std::string packed;  // a batch in stored form (Write)
  struct Chunk {
    std::size_t begin, entries;
    std::int64_t first;  // the ordinal of its first entry
  };
  std::vector<Chunk> chunks;
  struct Mark {
    std::size_t bytes = 0, chunks = 0, last_entries = 0;  // last_entries: of chunk chunks - 1
    std::int64_t ordinal = 0;                              // of the entry that follows
    int last_slot = -1;                                    // state->tx.last_slot then
    std::int64_t id_base = -1;                             // state->tx.id_base then
    // What the entry that follows may refer to as "the previous entry's":
    // a batch cut at the mark starts with it (a state record).
    bool known = false;
    std::optional<std::string> actor, statement;
    std::int64_t at = 0;
  };
  std::vector<Mark> marks;  // by savepoint level
  // Entries are numbered in the order they are captured, across the
  // connection's capture tables (state->tx; rolled-back ones leave gaps).
  // A chunk holds a run of entries no other table's entry interleaves: an
  // entry after one the other table took starts a chunk. A batch's id is
  // the transaction's base plus the number of its first entry, so the
  // sealer, reading batches in id order, reads entries in the order they
  // happened whenever and by whichever table each batch was written.
  int slot = 0;              // 0 vigil_audit_capture8, 1 vigil_audit_capture
  bool in_tx = false;        // between xBegin and xCommit / xRollback
  bool fresh_chunk = false;  // the next entry starts a chunk (after a write)
  // This transaction's layouts: a chunk's entries name them by index.
  std::vector<std::string> layouts;
  std::vector<staged::Layout> parsed;
  bool utf8 = false;  // the file's encoding is UTF-8 (read once)
  bool encoding_known = false;
  // The entry whose parts are arriving.
  std::uint64_t owed = 0;  // values still to come
  std::int64_t next_part = 0;
  std::size_t entry_begin = 0;
  // The previous entry's actor, statement and time in this chunk, unless a
  // rollback or a new chunk made it unknown.
  bool prev_known = false;
  std::optional<std::string> prev_actor, prev_statement;
  std::int64_t prev_at = 0;

  std::size_t Protected() const { return marks.empty() ? 0 : marks.back().bytes; }
  // Note records where the buffer stands into a new mark (a savepoint's:
  // once per statement inside a transaction, so it copies no string it
  // need not).
  void Note(Mark& m) const {
    NotePosition(m);
    if (prev_known) {
      if (prev_actor) m.actor = prev_actor;
      if (prev_statement) m.statement = prev_statement;
      m.at = prev_at;
    }
    m.known = prev_known;
  }
  // NotePosition is Note without the previous entry's state (known false):
  // it allocates nothing.
  void NotePosition(Mark& m) const noexcept {
    m.bytes = buf.size();
    m.chunks = chunks.size();
    m.last_entries = chunks.empty() ? 0 : chunks.back().entries;
    m.ordinal = state->tx.ordinal;
    m.last_slot = state->tx.last_slot;
    m.id_base = state->tx.id_base;
    m.known = false;
  }

  void Reset() {
    // A large transaction's memory goes back with it.
    buf.Clear(std::size_t{8} << 20);
    if (packed.capacity() > (std::size_t{8} << 20)) std::string().swap(packed);
    if (chunks.capacity() > 4096) std::vector<Chunk>().swap(chunks);
    else chunks.clear();
    marks.clear();
    layouts.clear();
    parsed.clear();
    owed = 0;
    next_part = 0;
    prev_known = false;
    fresh_chunk = false;
  }

  // DropPartial removes an entry whose parts never all arrived (only a
  // direct INSERT into vigil_audit_capture can leave one).
  void DropPartial() {
    if (owed == 0) return;
    buf.Truncate(entry_begin);
    if (!chunks.empty()) {
      if (chunks.back().begin == entry_begin) chunks.pop_back();
      else chunks.back().entries--;
    }
    owed = 0;
    next_part = 0;
    prev_known = false;
    state->tx.last_slot = -1;
  }

  // Restore undoes what followed a mark. The table that took the newest
  // entry that remains is the one that had when the mark was set (both
  // tables undo the same savepoint; a table without the mark undoes all
  // its entries, and Mark{} knows none): a chunk's entries must follow one
  // another with no entry of the other table between them, or its batch
  // id would misplace them.
  void Restore(const Mark& m) {
    buf.Truncate(m.bytes);
    chunks.resize(std::min(chunks.size(), m.chunks));
    if (!chunks.empty() && chunks.size() == m.chunks) chunks.back().entries = m.last_entries;
    owed = 0;
    next_part = 0;
    prev_known = false;
    state->tx.last_slot = m.last_slot;
    // The batch-id base too: a seal after the mark may have deleted the
    // batches it was computed above, and the rollback brings them back.
    state->tx.id_base = m.id_base;
  }

  // CheckBatchTable refuses to write through a trigger on
  // vigil_audit_batch (a crafted file's, or a TEMP one): its code would run
  // inside the write, and vigil's tables carry none (schema_sqlite.cc).
  // Checked at every write (a few a megabyte): a trigger can be created at
  // any point of a transaction.
  void CheckBatchTable() {
    Stmt t(db, "SELECT 1 FROM main.sqlite_schema WHERE type = 'trigger' AND tbl_name = 'vigil_audit_batch' "
               "COLLATE NOCASE UNION ALL SELECT 1 FROM temp.sqlite_schema WHERE type = 'trigger' AND "
               "tbl_name = 'vigil_audit_batch' COLLATE NOCASE");
    if (t.Step())
      throw Error(ErrorCode::kPrerequisite, "vigil_audit_batch has a trigger: vigil will not write audit entries through it",
                  {}, "Drop the trigger; vigil's tables carry none.");
  }

  // Write writes the entries after `from` (a mark, or the start) and
  // drops them from memory: the part of the chunk the mark cuts that
  // follows it, then every later chunk, a row of vigil_audit_batch each.
  void Write(const Mark& from) {
    bool& flushing = state->writing;
    if (flushing || buf.size() <= from.bytes) return;
    if (owed != 0) throw Error(ErrorCode::kInternal, "an audit entry's parts are incomplete");
    flushing = true;
    struct Done {
      bool& f;
      ~Done() { f = false; }
    } done{flushing};
    CheckBatchTable();
    std::string list = "[";
    for (std::size_t i = 0; i < layouts.size(); ++i) {
      if (i) list += ',';
      list += layouts[i];
    }
    list += "]";
    std::int64_t& id_base = state->tx.id_base;
    if (id_base < 0) {
      // Above every batch there is (a transaction commits after those it
      // follows: one writer), with 2^32 numbers for this one's entries.
      Stmt m(db, "SELECT coalesce(max(id), 0) FROM main.vigil_audit_batch");
      std::int64_t top = m.Step() ? m.Int(0) : 0;
      if (top < 0 || top >= (std::int64_t{1} << 62))
        throw Error(ErrorCode::kPrerequisite, "vigil_audit_batch's ids are out of range", {},
                    "vigil_audit_batch was changed outside vigil; seal or restore it");
      id_base = ((top >> 32) + 1) << 32;
      if (state->tx.own_floor < 0 || id_base < state->tx.own_floor) state->tx.own_floor = id_base;
    }
    Stmt s(db, "INSERT INTO main.vigil_audit_batch (id, n, layouts, entries) VALUES (?4, ?1, ?2, ?3)");
    auto write = [&](std::size_t begin, std::size_t end, std::size_t n, std::int64_t first, const Mark* state) {
      if (n == 0) return;
      if (first >= (std::int64_t{1} << 32))
        throw Error(ErrorCode::kProgramLimit, "a transaction stages at most 2^32 audit entries");
      sqlite3_reset(s.get());
      sqlite3_bind_int64(s.get(), 4, id_base + first);
      sqlite3_bind_int64(s.get(), 1, static_cast<sqlite3_int64>(n));
      s.Text(2, list);
      std::string_view entries(buf.data() + begin, end - begin);
      std::string blob;
      if (state != nullptr && state->known) {
        // Cut at a mark: its first entry may refer to entries before it.
        staged::AppendState(blob, state->at, state->actor ? std::optional<std::string_view>(*state->actor) : std::nullopt,
                            state->statement ? std::optional<std::string_view>(*state->statement) : std::nullopt);
        blob.append(entries);
        entries = blob;
      }
      staged::Pack(packed, entries);
      // Static: nothing runs inside the INSERT that could change `packed`
      // (a trigger on the table is refused, and Write does not re-enter).
      if (sqlite3_bind_blob64(s.get(), 3, packed.data(), packed.size(), SQLITE_STATIC) != SQLITE_OK)
        throw Error(ErrorCode::kProgramLimit,
                    "a batch of staged audit entries (" + std::to_string(packed.size()) +
                        " bytes) is larger than this connection's SQLite length limit",
                    {}, "Raise SQLITE_LIMIT_LENGTH (sqlite3_limit), or write smaller values.");
      s.Step();
    };
    std::size_t first = from.chunks;
    // What is written leaves memory, also when a later write fails (its
    // rows stay in the table: written again they would be entries twice,
    // and their batch ids would collide).
    struct Progress {  // on an exception, drops what was written (noexcept)
      Capture* c;
      const Mark& from;
      bool cut_written = false;  // the part of the chunk the mark cut (if any)
      std::size_t written;       // chunks [from.chunks, written) are in the table
      bool done = false;
      ~Progress() {
        if (!done && cut_written) c->DropWritten(from, written);
      }
    } progress{this, from, false, first};
    if (first > 0 && first <= chunks.size()) {
      std::size_t end = first < chunks.size() ? chunks[first].begin : buf.size();
      write(from.bytes, end, chunks[first - 1].entries - from.last_entries, from.ordinal, &from);
    }
    progress.cut_written = true;
    for (std::size_t i = first; i < chunks.size(); ++i) {
      write(chunks[i].begin, i + 1 < chunks.size() ? chunks[i + 1].begin : buf.size(), chunks[i].entries,
            chunks[i].first, nullptr);
      progress.written = i + 1;
    }
    progress.done = true;
    buf.Truncate(from.bytes);
    chunks.resize(from.chunks);
    if (!chunks.empty()) chunks.back().entries = from.last_entries;
    prev_known = false;
    // The chunk the mark cut is closed: entries after the write are
    // numbered after those it wrote and go into chunks of their own.
    fresh_chunk = true;
  }

  // DropWritten removes from memory what a Write that failed had written
  // (a batch's INSERT that fails writes nothing): the part of the chunk
  // the mark cut that follows it, and the chunks before `written`. What
  // remains follows the mark, as it was.
  void DropWritten(const Mark& from, std::size_t written) noexcept {
    std::size_t first = from.chunks;
    std::size_t end = written < chunks.size() ? chunks[written].begin : buf.size();
    if (end < from.bytes || end > buf.size()) return;  // cannot be: nothing else changes buf meanwhile
    std::size_t gone = end - from.bytes;
    buf.Erase(from.bytes, gone);
    chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(std::min(first, chunks.size())),
                 chunks.begin() + static_cast<std::ptrdiff_t>(std::min(written, chunks.size())));
    for (std::size_t i = first; i < chunks.size(); ++i) chunks[i].begin -= gone;
    if (first > 0 && first <= chunks.size()) chunks[first - 1].entries = from.last_entries;
    prev_known = false;
    fresh_chunk = true;
  }

  // Flush writes what follows the newest mark; FlushAll (commit) all.
  void Flush() { Write(marks.empty() ? Mark{} : marks.back()); }
  void FlushAll() {
    DropPartial();
    Write(Mark{});
  }

  std::int64_t NowMs() {
    sqlite3_int64 t = 0;
    if (vfs != nullptr && vfs->iVersion >= 2 && vfs->xCurrentTimeInt64 != nullptr) {
      vfs->xCurrentTimeInt64(vfs, &t);
    } else if (vfs != nullptr) {
      double d = 0;
      vfs->xCurrentTime(vfs, &d);
      t = static_cast<sqlite3_int64>(d * 86400000.0);
    }
    return t;
  }

  std::size_t LayoutIndex(std::string_view text) {
    for (std::size_t i = layouts.size(); i-- > 0;)
      if (layouts[i] == text) return i;
    parsed.push_back(staged::ParseLayout(text));
    layouts.emplace_back(text);
    return layouts.size() - 1;
  }

  static staged::Value ValueOf(sqlite3_value* v, bool utf8) {
    staged::Value x;
    switch (sqlite3_value_type(v)) {
      case SQLITE_INTEGER:
        x.kind = staged::Value::kInteger;
        x.integer = sqlite3_value_int64(v);
        break;
      case SQLITE_FLOAT:
        x.kind = staged::Value::kReal;
        x.real = sqlite3_value_double(v);
        break;
      case SQLITE_TEXT: {
        // In a UTF-8 file a text's bytes are read as a blob's: no copy to
        // add the terminating NUL that sqlite3_value_text needs.
        const void* p = utf8 ? sqlite3_value_blob(v) : sqlite3_value_text(v);
        x.kind = staged::Value::kText;
        x.bytes = std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_value_bytes(v)));
        break;
      }
      case SQLITE_BLOB: {
        const void* p = sqlite3_value_blob(v);
        x.kind = staged::Value::kBlob;
        x.bytes = std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_value_bytes(v)));
        break;
      }
      default: break;
    }
    return x;
  }

  // Insert takes one row: (layout, operation, statement, part, v0...).
  void Insert(int ncol, sqlite3_value** col) {
    std::int64_t part = sqlite3_value_int64(col[3]);
    if (!encoding_known) {
      Stmt e(db, "PRAGMA main.encoding");
      utf8 = e.Step() && e.Column(0).value_or("") == "UTF-8";
      encoding_known = true;
    }
    if (part == 0) {
      if (owed != 0) throw Error(ErrorCode::kInternal, "an audit entry's parts are incomplete");
      if (sqlite3_value_type(col[0]) != SQLITE_TEXT || sqlite3_value_type(col[1]) != SQLITE_TEXT)
        throw Error(ErrorCode::kInvalidParameter, "vigil_audit_capture takes the rows of vigil's audit triggers only");
      std::string_view layout(reinterpret_cast<const char*>(sqlite3_value_text(col[0])),
                              static_cast<std::size_t>(sqlite3_value_bytes(col[0])));
      std::string_view opname(reinterpret_cast<const char*>(sqlite3_value_text(col[1])),
                              static_cast<std::size_t>(sqlite3_value_bytes(col[1])));
      if (opname != "INSERT" && opname != "UPDATE" && opname != "DELETE")
        throw Error(ErrorCode::kInvalidParameter, "vigil_audit_capture takes INSERT, UPDATE or DELETE");
      staged::Op op = OpOf(opname);
      std::size_t index = LayoutIndex(layout);
      std::uint64_t count = parsed[index].ValueCount(op);
      std::int64_t& ordinal = state->tx.ordinal;
      if (fresh_chunk || chunks.empty() || chunks.back().entries >= staged::kBatchEntries ||
          buf.size() - chunks.back().begin >= staged::kBatchBytes || state->tx.last_slot != slot) {
        chunks.push_back({buf.size(), 0, ordinal});
        fresh_chunk = false;
        prev_known = false;
      }
      const std::optional<std::string>& actor = state->actor;
      std::optional<std::string_view> statement;
      if (sqlite3_value_type(col[2]) == SQLITE_TEXT)
        statement = std::string_view(reinterpret_cast<const char*>(sqlite3_value_text(col[2])),
                                     static_cast<std::size_t>(sqlite3_value_bytes(col[2])));
      std::optional<std::optional<std::string_view>> give_actor, give_statement;
      if (!prev_known || prev_actor != actor) {
        give_actor = actor ? std::optional<std::string_view>(*actor) : std::nullopt;
        prev_actor = actor;
      }
      bool same_statement = prev_known && (prev_statement.has_value() == statement.has_value()) &&
                            (!statement || *prev_statement == *statement);
      if (!same_statement) {
        give_statement = statement;
        if (statement) prev_statement = std::string(*statement);
        else prev_statement.reset();
      }
      std::int64_t& statement_at = state->tx.statement_at;
      if (!state->tx.statement_at_known) {
        statement_at = NowMs();
        state->tx.statement_at_known = true;
      }
      entry_begin = buf.size();
      std::size_t room = staged::kMaxHeader;
      for (const auto* given : {&give_actor, &give_statement})
        if (*given) room += staged::kMaxValueHead + (**given ? (**given)->size() : 0);
      buf.Commit(staged::PutHeader(buf.Room(room), index, op, statement_at,
                                   prev_known ? std::optional<std::int64_t>(prev_at) : std::nullopt, give_actor,
                                   give_statement, count));
      prev_known = true;
      prev_at = statement_at;
      chunks.back().entries++;
      ++ordinal;
      state->tx.last_slot = slot;
      owed = count;
      next_part = 0;
    } else if (owed == 0 || part != next_part) {
      throw Error(ErrorCode::kInvalidParameter, "vigil_audit_capture takes the rows of vigil's audit triggers only");
    }
    std::uint64_t take = std::min<std::uint64_t>(owed, static_cast<std::uint64_t>(ncol - 4));
    for (std::uint64_t i = 0; i < take; ++i) {
      staged::Value v = ValueOf(col[4 + i], utf8);
      char* out = buf.Room(staged::kMaxValueHead + v.bytes.size());
      std::size_t n = staged::PutValueHead(out, v);
      if (!v.bytes.empty()) std::memcpy(out + n, v.bytes.data(), v.bytes.size());
      buf.Commit(n + v.bytes.size());
    }
    owed -= take;
    ++next_part;
    if (owed == 0 && buf.size() - Protected() >= 4 * staged::kBatchBytes) Flush();
  }
};

Capture* AsCapture(sqlite3_vtab* v) { return reinterpret_cast<Capture*>(v); }

int CaptureConnect(int slot, sqlite3* db, void* aux, sqlite3_vtab** out) {
  if (aux == nullptr) return SQLITE_ERROR;
  std::string ddl = "CREATE TABLE x(layout, operation, statement, part";
  for (int i = 0; i < (slot == 0 ? kNarrowValues : kCaptureValues); ++i) ddl += ", v" + std::to_string(i);
  ddl += ")";
  int rc = sqlite3_declare_vtab(db, ddl.c_str());
  if (rc != SQLITE_OK) return rc;
  // Innocuous: the triggers vigil_audit_enable wrote into the schema use
  // it, also under trusted_schema=OFF. A trigger in an attached file
  // cannot name it (it lives in main), and main's own schema can write
  // entries into vigil_audit_log directly anyway (docs/security.md).
  rc = sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  if (rc != SQLITE_OK) return rc;
  auto* c = new (std::nothrow) Capture();
  if (c == nullptr) return SQLITE_NOMEM;
  std::memset(&c->base, 0, sizeof(c->base));
  c->db = db;
  c->slot = slot;
  c->state = static_cast<AuditState*>(aux);
  // The connection's clock, as SQLite's own 'now' reads it.
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &c->vfs) != SQLITE_OK || c->vfs == nullptr)
    c->vfs = sqlite3_vfs_find(nullptr);
  c->state->captures[slot] = c;
  *out = &c->base;
  return SQLITE_OK;
}

int CaptureConnect8(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
  return CaptureConnect(0, db, aux, out);
}

int CaptureConnect16(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
  return CaptureConnect(1, db, aux, out);
}

int CaptureDisconnect(sqlite3_vtab* v) {
  Capture* c = AsCapture(v);
  if (c->state->captures[c->slot] == c) c->state->captures[c->slot] = nullptr;
  sqlite3_free(c->base.zErrMsg);
  delete c;
  return SQLITE_OK;
}

int CaptureBestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  info->estimatedCost = 1e12;
  return SQLITE_OK;
}

int CaptureOpen(sqlite3_vtab* v, sqlite3_vtab_cursor**) {
  return RunVtab(v, [] {
    throw Error(ErrorCode::kNotSupported, "vigil_audit_capture is written by vigil's audit triggers and read by no one",
                {}, "Staged entries reach vigil_audit_log when they are sealed: SELECT vigil_audit_seal().");
  });
}

int CaptureUpdate(sqlite3_vtab* v, int argc, sqlite3_value** argv, sqlite3_int64*) {
  return RunVtab(v, [&] {
    if (argc < 2 + 4 || sqlite3_value_type(argv[0]) != SQLITE_NULL)
      throw Error(ErrorCode::kNotSupported, "vigil_audit_capture takes new rows only");
    AsCapture(v)->Insert(argc - 2, argv + 2);
  });
}

// A capture table joins a transaction (xBegin, then xSavepoint when
// savepoints are open) in the prologue of the first statement that may
// write it (OP_VBegin: also through triggers), never in the middle of one,
// and leaves it at its end. What both tables share starts over when the
// first of them joins and when the last leaves.
bool OtherInTransaction(const Capture* c) {
  const Capture* other = c->state->captures[1 - c->slot];
  return other != nullptr && other->in_tx;
}

int CaptureBegin(sqlite3_vtab* v) {
  Capture* c = AsCapture(v);
  if (!OtherInTransaction(c)) c->state->tx = CaptureTx{};
  c->Reset();
  c->in_tx = true;
  return SQLITE_OK;
}

int CaptureSync(sqlite3_vtab* v) {
  return RunVtab(v, [&] { AsCapture(v)->FlushAll(); });
}

int CaptureEnd(sqlite3_vtab* v) {
  Capture* c = AsCapture(v);
  c->Reset();
  c->in_tx = false;
  if (!OtherInTransaction(c)) c->state->tx = CaptureTx{};
  return SQLITE_OK;
}

int CaptureSavepoint(sqlite3_vtab* v, int level) {
  Capture* c = AsCapture(v);
  return RunVtab(v, [&] {
    if (c->state->writing) return;
    c->state->tx.statement_at_known = false;
    if (level < 0) return;
    c->DropPartial();
    auto at = static_cast<std::size_t>(level);
    if (c->marks.size() > at) c->marks.resize(at);
    while (c->marks.size() < at) c->marks.push_back(c->marks.empty() ? Capture::Mark{} : c->marks.back());
    // What follows the enclosing level's mark is written now if large:
    // SQLite opens the new savepoint after this call. The new mark is set
    // also when that write fails: SQLite then rolls the statement back to
    // this level, which must find it (without it, the rollback would be
    // taken for one to before this table joined, and undo everything).
    c->marks.reserve(c->marks.size() + 1);
    struct Failed {  // on an exception, sets the mark without allocating (noexcept)
      Capture* c;
      std::size_t at;
      bool done = false;
      ~Failed() {
        if (done) return;
        // What the mark cannot hold (the previous entry's actor and
        // statement) the next entry gives again.
        c->prev_known = false;
        if (c->marks.size() == at) c->marks.emplace_back();
        c->NotePosition(c->marks.back());
      }
    } failed{c, at};
    if (c->buf.size() - c->Protected() >= staged::kBatchBytes) c->Flush();
    c->marks.emplace_back();
    c->Note(c->marks.back());
    failed.done = true;
  });
}

int CaptureRelease(sqlite3_vtab* v, int level) {
  Capture* c = AsCapture(v);
  if (c->state->writing) return SQLITE_OK;
  if (level < 0) c->marks.clear();
  else if (static_cast<std::size_t>(level) < c->marks.size()) c->marks.resize(static_cast<std::size_t>(level));
  return SQLITE_OK;
}

int CaptureRollbackTo(sqlite3_vtab* v, int level) {
  Capture* c = AsCapture(v);
  // A rollback while vigil writes is its own INSERT's, failing: Write
  // keeps what it did not write (as CaptureSavepoint and CaptureRelease
  // leave the marks alone then).
  if (c->state->writing) return SQLITE_OK;
  if (level < 0) {
    // The savepoint that began the transaction: everything is undone.
    c->Restore(Capture::Mark{});
    c->marks.clear();
  } else if (static_cast<std::size_t>(level) < c->marks.size()) {
    c->Restore(c->marks[static_cast<std::size_t>(level)]);
    c->marks.resize(static_cast<std::size_t>(level) + 1);
  } else {
    // A savepoint opened before this table joined the transaction: every
    // entry came after it.
    c->Restore(Capture::Mark{});
  }
  return SQLITE_OK;
}

sqlite3_module MakeCaptureModule(decltype(sqlite3_module::xConnect) connect) {
  sqlite3_module m;
  std::memset(&m, 0, sizeof(m));
  m.iVersion = 2;
  m.xCreate = nullptr;  // eponymous-only
  m.xConnect = connect;
  m.xBestIndex = CaptureBestIndex;
  m.xDisconnect = CaptureDisconnect;
  m.xDestroy = CaptureDisconnect;
  m.xOpen = CaptureOpen;
  m.xUpdate = CaptureUpdate;
  m.xBegin = CaptureBegin;
  m.xSync = CaptureSync;
  m.xCommit = CaptureEnd;
  m.xRollback = CaptureEnd;
  m.xSavepoint = CaptureSavepoint;
  m.xRelease = CaptureRelease;
  m.xRollbackTo = CaptureRollbackTo;
  return m;
}

const sqlite3_module kCaptureModules[2] = {MakeCaptureModule(CaptureConnect8), MakeCaptureModule(CaptureConnect16)};

// ---- the store -------------------------------------------------------------------

constexpr const char* kEntryColumns =
    "id, at, session_role, effective_role, actor, application_name, client_addr, txid, table_schema, table_name,"
    " operation, row_key, old_row, new_row, old_digest, new_digest, changed_columns, statement, detail";

audit::Entry EntryOf(Stmt& s) {
  std::vector<audit::Text> columns;
  for (std::size_t i = 0; i < audit::kEntryColumnCount; ++i) columns.push_back(s.Column(static_cast<int>(i)));
  return audit::EntryFromColumns(columns);
}

class SqliteAuditStore final : public audit::AuditStore {
 public:
  // expand_below: the sealer expands only batches with lower ids (Held).
  SqliteAuditStore(sqlite3* db, AuditState* state,
                   std::int64_t expand_below = std::numeric_limits<std::int64_t>::max())
      : db_(db), state_(state), expand_below_(expand_below) {}

  audit::Chain ReadChain(bool lock) override {
    // The sealer writes first, so that it reads the chain under the write
    // lock (a second sealer waits, or fails on a stale snapshot).
    if (lock) Stmt(db_, "UPDATE main.vigil_audit_chain SET head_seq = head_seq WHERE singleton = 1").Step();
    Stmt s(db_, "SELECT head_seq, head_hash, from_seq, from_hash FROM main.vigil_audit_chain WHERE singleton = 1");
    if (!s.Step())
      throw Error(ErrorCode::kPrerequisite, "vigil_audit_chain has lost its row", {},
                  "the chain's state was deleted: restore the file from a backup");
    audit::Chain c;
    c.head_seq = s.Int(0);
    c.head_hash = s.Column(1);
    c.from_seq = s.Int(2);
    c.from_hash = s.Column(3);
    return c;
  }
  void StartSealing() override {
    after_.reset();
    Expand();
  }
  // Expand writes the staged entries as rows of the log, oldest batch
  // first, and deletes their batches (the connection's own entries were
  // written before, by WriteOwn). SQLite has one writer, so
  // batch ids follow commit order and the rows' ids follow the entries'.
  void Expand() {
    Stmt has(db_, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'vigil_audit_batch'");
    if (!has.Step()) return;
    Stmt next(db_, "SELECT id, layouts, entries FROM main.vigil_audit_batch WHERE id > ?1 AND id < ?2 ORDER BY id LIMIT 1");
    sqlite3_bind_int64(next.get(), 2, expand_below_);
    Stmt drop(db_, "DELETE FROM main.vigil_audit_batch WHERE id = ?1");
    // One statement per layout and operation, kept for the call.
    std::unordered_map<std::string, std::unique_ptr<Stmt>> writers;
    std::string scratch;  // a compressed batch's entries
    std::int64_t after = std::numeric_limits<std::int64_t>::min();
    for (;;) {
      core::PollCancel();
      sqlite3_reset(next.get());
      sqlite3_bind_int64(next.get(), 1, after);
      if (!next.Step()) break;
      after = next.Int(0);
      std::string layouts_json = next.Column(1).value_or("");
      const void* blob = sqlite3_column_blob(next.get(), 2);
      std::string stored(static_cast<const char*>(blob), blob ? static_cast<std::size_t>(sqlite3_column_bytes(next.get(), 2)) : 0);
      sqlite3_reset(next.get());
      nlohmann::json list;
      if (CoreError([&] { list = core::json_in::ParseInput(layouts_json, "layouts"); })) list = nullptr;
      if (!list.is_array())
        throw Error(ErrorCode::kPrerequisite, "a staged audit batch's layouts are not a JSON array", {},
                    "vigil_audit_batch was changed outside vigil; restore the file from a backup");
      std::vector<std::string> layout_text;
      std::vector<staged::Layout> layouts;
      for (const auto& l : list) {
        layout_text.push_back(l.dump());
        layouts.push_back(staged::ParseLayout(layout_text.back()));
      }
      staged::Reader reader(staged::Unpack(stored, &scratch));
      staged::Entry e;
      std::int64_t n = 0;
      while (reader.Next(e)) {
        if ((++n & 1023) == 0) core::PollCancel();
        if (e.layout >= layouts.size())
          throw Error(ErrorCode::kPrerequisite, "a staged audit entry names a layout its batch lacks");
        const staged::Layout& l = layouts[e.layout];
        if (e.values.size() != l.ValueCount(e.op))
          throw Error(ErrorCode::kPrerequisite, "a staged audit entry has the wrong number of values");
        // SQLite's time functions cover the years 0 to 9999.
        if (e.at_ms > 464269060799999)
          throw Error(ErrorCode::kPrerequisite, "a staged audit entry's time is out of range");
        std::string k = layout_text[e.layout];
        k.push_back(static_cast<char>('0' + static_cast<int>(e.op)));
        // A statement of a wide table takes megabytes: a batch that names
        // many layouts (a crafted one) does not keep them all.
        if (writers.size() >= 16 && writers.find(k) == writers.end()) writers.clear();
        std::unique_ptr<Stmt>& w = writers[k];
        if (!w) w = std::make_unique<Stmt>(db_, ExpandSql(l, e.op));
        sqlite3_stmt* s = w->get();
        sqlite3_reset(s);
        sqlite3_bind_double(s, 1, static_cast<double>(e.at_ms) / 86400000.0);
        if (e.actor) w->Text(2, *e.actor); else w->Null(2);
        if (e.statement) w->Text(3, *e.statement); else w->Null(3);
        for (std::size_t i = 0; i < e.values.size(); ++i) {
          const staged::Value& v = e.values[i];
          int at = static_cast<int>(i) + 4;
          switch (v.kind) {
            case staged::Value::kNull: sqlite3_bind_null(s, at); break;
            case staged::Value::kInteger: sqlite3_bind_int64(s, at, v.integer); break;
            case staged::Value::kReal: sqlite3_bind_double(s, at, v.real); break;
            case staged::Value::kText: sqlite3_bind_text64(s, at, v.bytes.data(), v.bytes.size(), SQLITE_STATIC, SQLITE_UTF8); break;
            case staged::Value::kBlob: sqlite3_bind_blob64(s, at, v.bytes.data(), v.bytes.size(), SQLITE_STATIC); break;
          }
        }
        w->Step();
      }
      sqlite3_reset(drop.get());
      sqlite3_bind_int64(drop.get(), 1, after);
      drop.Step();
    }
  }
  std::vector<audit::Entry> ReadUnsealed(int limit) override {
    // Entries are committed in id order: those not sealed yet follow the
    // newest sealed one (found through the partial index on seq).
    if (!after_) {
      Stmt h(db_, "SELECT coalesce((SELECT id FROM main.vigil_audit_log WHERE seq IS NOT NULL"
                  " ORDER BY seq DESC LIMIT 1), 0)");
      after_ = h.Step() ? h.Int(0) : 0;
    }
    Stmt s(db_, std::string("SELECT ") + kEntryColumns + " FROM main.vigil_audit_log WHERE id > ?1 AND seq IS NULL"
                    " ORDER BY id LIMIT " + std::to_string(limit));
    sqlite3_bind_int64(s.get(), 1, *after_);
    std::vector<audit::Entry> out;
    while (s.Step()) out.push_back(EntryOf(s));
    if (!out.empty()) after_ = out.back().id;
    return out;
  }
  void WriteSeals(const std::vector<audit::Seal1>& seals) override {
    Stmt s(db_, "UPDATE main.vigil_audit_log SET seq = ?2, entry_hash = ?3 WHERE id = ?1");
    for (const auto& x : seals) {
      sqlite3_reset(s.get());
      sqlite3_bind_int64(s.get(), 1, x.id);
      sqlite3_bind_int64(s.get(), 2, x.seq);
      s.Text(3, x.hash);
      s.Step();
    }
  }
  void WriteHead(std::int64_t seq, const std::string& hash) override {
    Stmt s(db_, "UPDATE main.vigil_audit_chain SET head_seq = ?1, head_hash = ?2 WHERE singleton = 1");
    sqlite3_bind_int64(s.get(), 1, seq);
    s.Text(2, hash);
    s.Step();
  }
  std::vector<audit::Sealed> ReadSealed(std::int64_t after_seq, int limit) override {
    Stmt s(db_, std::string("SELECT ") + kEntryColumns + ", seq, entry_hash FROM main.vigil_audit_log WHERE seq > ?1"
                    " ORDER BY seq LIMIT " + std::to_string(limit));
    sqlite3_bind_int64(s.get(), 1, after_seq);
    std::vector<audit::Sealed> out;
    // A seq that is not an integer (a crafted file) is no place in the
    // chain: -1 makes verify report it.
    while (s.Step()) out.push_back({s.Type(19) == SQLITE_INTEGER ? s.Int(19) : -1, EntryOf(s), s.Column(20).value_or("")});
    return out;
  }
  std::int64_t CountUnsealed() override {
    Stmt s(db_, "SELECT count(*) FROM main.vigil_audit_log WHERE seq IS NULL");
    std::int64_t n = s.Step() ? s.Int(0) : 0;
    Stmt has(db_, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'vigil_audit_batch'");
    if (!has.Step()) return n;
    Stmt b(db_, "SELECT coalesce(sum(n), 0) FROM main.vigil_audit_batch");
    return n + (b.Step() ? b.Int(0) : 0);
  }
  std::int64_t LastSeqBefore(std::string_view before) override {
    Stmt s(db_, "SELECT coalesce((SELECT min(seq) FROM main.vigil_audit_log WHERE seq IS NOT NULL AND at >= ?1) - 1,"
                " (SELECT max(seq) FROM main.vigil_audit_log), 0)");
    s.Text(1, before);
    return s.Step() ? s.Int(0) : 0;
  }
  std::int64_t DeleteThrough(std::int64_t through) override {
    Stmt s(db_, "DELETE FROM main.vigil_audit_log WHERE seq <= ?1");
    sqlite3_bind_int64(s.get(), 1, through);
    s.Step();
    return sqlite3_changes64(db_);
  }
  void WriteCheckpoint(std::int64_t seq, const std::string& hash) override {
    Stmt s(db_, "UPDATE main.vigil_audit_chain SET from_seq = ?1, from_hash = ?2 WHERE singleton = 1");
    sqlite3_bind_int64(s.get(), 1, seq);
    s.Text(2, hash);
    s.Step();
  }
  std::vector<audit::Entry> ReadKeyed(std::string_view schema, std::string_view table, std::int64_t after_id,
                                      int limit) override {
    Stmt s(db_, std::string("SELECT ") + kEntryColumns + " FROM main.vigil_audit_log WHERE table_schema = ?1 AND"
                    " table_name = ?2 AND row_key IS NOT NULL AND id > ?3 ORDER BY id LIMIT " + std::to_string(limit));
    s.Text(1, schema);
    s.Text(2, table);
    sqlite3_bind_int64(s.get(), 3, after_id);
    std::vector<audit::Entry> out;
    while (s.Step()) out.push_back(EntryOf(s));
    return out;
  }
  void WriteErasures(const std::vector<audit::Erasure>& erasures) override {
    Stmt s(db_, "UPDATE main.vigil_audit_log SET old_digest = ?2, new_digest = ?3, old_row = NULL, new_row = NULL"
                " WHERE id = ?1");
    for (const auto& e : erasures) {
      sqlite3_reset(s.get());
      sqlite3_bind_int64(s.get(), 1, e.id);
      if (e.old_digest) s.Text(2, *e.old_digest); else s.Null(2);
      if (e.new_digest) s.Text(3, *e.new_digest); else s.Null(3);
      s.Step();
    }
  }
  void Append(const audit::Entry& e) override {
    after_.reset();
    Stmt s(db_, "INSERT INTO main.vigil_audit_log (at, actor, table_schema, table_name, operation, row_key, detail)"
                " VALUES (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z', ?1, ?2, ?3, ?4, ?5, ?6)");
    auto bind = [&](int i, const audit::Text& v) {
      if (v) s.Text(i, *v); else s.Null(i);
    };
    bind(1, state_ != nullptr ? state_->actor : std::nullopt);
    bind(2, e.table_schema);
    bind(3, e.table_name);
    s.Text(4, e.operation);
    bind(5, e.row_key);
    bind(6, e.detail);
    s.Step();
  }

 private:
  sqlite3* db_;
  AuditState* state_;
  std::int64_t expand_below_;
  std::optional<std::int64_t> after_;  // the newest id sealed or read for sealing
};

// ---- SQL functions -------------------------------------------------------------

// vigil_audit_enable(table, options DEFAULT '{}') -> {"table", "options"}.
void Enable(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = Arg(argv[0], "table");
  if (table.find('\0') != std::string::npos) throw Error(ErrorCode::kInvalidParameter, "table names hold no NUL byte");
  std::string options = argc > 1 && sqlite3_value_type(argv[1]) != SQLITE_NULL ? std::string(Text(argv[1])) : "{}";
  schema::Ensure(db, schema::Access::kWrite);
  Savepoint sp(db, "vigil_audit_enable");
  TablePlan p = PlanFor(db, table, options);
  if (p.options.reads)
    throw Error(ErrorCode::kNotSupported, "audit option reads is PostgreSQL's", {},
                "It needs vigil's executor hook (vigil in shared_preload_libraries); SQLite has no hook for reads.");
  if (p.table.size() >= 6 && sqlite3_strnicmp(p.table.c_str(), "vigil_", 6) == 0)
    throw Error(ErrorCode::kPrivilege, "vigil's own tables cannot be audited");
  DropTriggers(db, p.table);
  for (const char* op : kOps) ExecOne(db, "CREATE TRIGGER main." + TriggerSql(p, op));
  std::string canonical = audit::OptionsJson(p.options);
  Stmt s(db, "INSERT INTO main.vigil_audit_tables (table_name, options, enabled_at) VALUES (?1, ?2,"
             " strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT (table_name) DO UPDATE SET options = excluded.options,"
             " enabled_at = excluded.enabled_at");
  s.Text(1, p.table);
  s.Text(2, canonical);
  s.Step();
  sp.Release();
  ResultText(ctx, "{\"table\":" + Quoted(p.table) + ",\"options\":" + canonical + "}");
}

// vigil_audit_disable(table) -> 1 when it was audited.
void Disable(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = Arg(argv[0], "table");
  schema::Ensure(db, schema::Access::kWrite);
  Savepoint sp(db, "vigil_audit_disable");
  std::string name = LoadTable(db, table).info.name;
  Stmt had(db, "SELECT count(*) FROM main.sqlite_schema WHERE type = 'trigger' AND name IN (?1, ?2, ?3)");
  for (int i = 0; i < 3; ++i) had.Text(i + 1, TriggerName(kOpNames[i], name));
  bool existed = had.Step() && had.Int(0) > 0;
  DropTriggers(db, name);
  Stmt d(db, "DELETE FROM main.vigil_audit_tables WHERE table_name = ?1");
  d.Text(1, name);
  d.Step();
  existed = existed || sqlite3_changes(db) > 0;
  sp.Release();
  sqlite3_result_int(ctx, existed ? 1 : 0);
}

void SetActor(sqlite3_context* ctx, int, sqlite3_value** argv) {
  AuditState* st = State(ctx);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    st->actor.reset();
    sqlite3_result_null(ctx);
    return;
  }
  std::string_view actor = Text(argv[0]);
  if (actor.size() > kMaxActor)
    throw Error(ErrorCode::kInvalidParameter, "actor must be at most " + std::to_string(kMaxActor) + " bytes");
  if (!core::text::IsValidUtf8(actor)) throw Error(ErrorCode::kInvalidText, "actor is not valid UTF-8");
  if (actor.empty()) st->actor.reset();
  else st->actor = std::string(actor);
  if (st->actor) ResultText(ctx, *st->actor);
  else sqlite3_result_null(ctx);
}

void Actor(sqlite3_context* ctx, int, sqlite3_value**) {
  AuditState* st = State(ctx);
  if (st->actor) ResultText(ctx, *st->actor);
  else sqlite3_result_null(ctx);
}

// vigil_audit_key(key) -> 1: the connection's HMAC key (NULL forgets it).
void Key(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  AuditState* st = State(ctx);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    st->key.reset();
    st->env_read = true;
    sqlite3_result_int(ctx, 0);
    return;
  }
  std::string_view key = Text(argv[0]);
  audit::CheckKey(key);
  RefuseForeign(db);
  st->key = std::string(key);
  st->env_read = true;
  sqlite3_result_int(ctx, 1);
}

// HasLog: the file has an audit log to read (an older file, before its
// upgrade, has none: nothing was audited).
bool HasLog(sqlite3* db) {
  if (!schema::Ensure(db, schema::Access::kRead, "vigil_audit_log")) return false;
  Stmt s(db, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'vigil_audit_log'");
  return s.Step();
}

// WriteOwn writes the calling connection's staged entries of the
// transaction in progress, before the caller opens its savepoint: those
// after the newest savepoint of the transaction; the ones before it stay
// in memory until it is released. It returns how many stay, and in
// *expand_below the bound for the sealer's batch ids: while entries stay,
// the transaction's own batches (ids from its base up) wait with them, so
// that the chain never seals an entry before one that happened earlier;
// the committed ones are sealed.
std::size_t WriteOwn(sqlite3_context* ctx, std::int64_t* expand_below = nullptr) {
  AuditState* st = State(ctx);
  if (expand_below != nullptr) *expand_below = std::numeric_limits<std::int64_t>::max();
  if (st == nullptr) return 0;
  std::size_t left = 0;
  for (Capture* capture : st->captures) {
    if (capture == nullptr) continue;
    capture->Flush();
    for (const Capture::Chunk& c : capture->chunks) left += c.entries;
  }
  if (expand_below != nullptr && left > 0 && st->tx.own_floor >= 0) *expand_below = st->tx.own_floor;
  return left;
}

void Seal(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  if (!HasLog(db)) {
    sqlite3_result_int64(ctx, 0);
    return;
  }
  schema::Ensure(db, schema::Access::kWrite);
  std::int64_t expand_below;
  WriteOwn(ctx, &expand_below);
  Savepoint sp(db, "vigil_audit_seal");
  SqliteAuditStore store(db, State(ctx), expand_below);
  std::int64_t n = audit::SealPending(store, KeyOf(db, State(ctx)));
  sp.Release();
  sqlite3_result_int64(ctx, n);
}

// vigil_audit_head() -> the newest link, after sealing what is pending.
void Head(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  if (!HasLog(db)) {
    sqlite3_result_null(ctx);
    return;
  }
  schema::Ensure(db, schema::Access::kWrite);
  std::int64_t expand_below;
  WriteOwn(ctx, &expand_below);
  Savepoint sp(db, "vigil_audit_head");
  SqliteAuditStore store(db, State(ctx), expand_below);
  audit::SealPending(store, KeyOf(db, State(ctx)));
  audit::Chain c = store.ReadChain(false);
  sp.Release();
  std::optional<std::string> head = c.head_seq > c.from_seq && c.head_hash ? c.head_hash : c.from_hash;
  if (head) ResultText(ctx, *head);
  else sqlite3_result_null(ctx);
}

void Verify(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::optional<std::string> expected;
  if (argc > 0 && sqlite3_value_type(argv[0]) != SQLITE_NULL) expected = std::string(Text(argv[0]));
  if (!HasLog(db)) {
    audit::Verifier v(0, std::nullopt, 0, std::nullopt, std::nullopt, expected);
    ResultText(ctx, v.Report(0));
    return;
  }
  SqliteAuditStore store(db, State(ctx));
  std::string report = audit::Verify(store, KeyOf(db, State(ctx)), expected);
  // A file's own objects that call the audit functions void the chain's
  // keyed evidence: reported, and the chain is not valid with them.
  std::vector<std::string> foreign = ForeignObjects(db);
  if (!foreign.empty()) {
    std::string list = "[";
    for (std::size_t i = 0; i < foreign.size(); ++i) {
      if (i) list += ',';
      list += Quoted(foreign[i]);
    }
    list += "]";
    std::size_t v = report.find("\"valid\":true");
    if (v != std::string::npos) report.replace(v, 12, "\"valid\":false");
    report.insert(report.size() - 1, ",\"foreign_objects\":" + list);
  }
  ResultText(ctx, report);
}

std::string Before(sqlite3* db, sqlite3_value* v) {
  std::string text = Arg(v, "before");
  Stmt s(db, "SELECT strftime('%Y-%m-%dT%H:%M:%f', ?1) || '000Z'");
  s.Text(1, text);
  std::optional<std::string> t = s.Step() ? s.Column(0) : std::nullopt;
  if (!t) throw Error(ErrorCode::kInvalidText, "before is not an ISO 8601 time: \"" + core::text::ForMessage(text, 64) + "\"");
  return *t;
}

void Purge(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string before = Before(db, argv[0]);
  schema::Ensure(db, schema::Access::kWrite);
  std::int64_t expand_below;
  WriteOwn(ctx, &expand_below);
  Savepoint sp(db, "vigil_audit_purge");
  SqliteAuditStore store(db, State(ctx), expand_below);
  std::string report = audit::Purge(store, before, KeyOf(db, State(ctx)));
  sp.Release();
  ResultText(ctx, report);
}

void Erase(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = Arg(argv[0], "table");
  std::string key = Arg(argv[1], "key");
  if (table.rfind("main.", 0) == 0) table.erase(0, 5);
  schema::Ensure(db, schema::Access::kWrite);
  if (WriteOwn(ctx) > 0)
    throw Error(ErrorCode::kPrerequisite, "this transaction's audited changes inside an open savepoint are not written yet",
                {}, "Release the savepoint (or commit), then erase: the erasure must cover them.");
  Savepoint sp(db, "vigil_audit_erase");
  SqliteAuditStore store(db, State(ctx));
  std::string report = audit::Erase(store, "main", table, key, KeyOf(db, State(ctx)));
  sp.Release();
  ResultText(ctx, report);
}

VIGIL_SQLITE_FN(Digest) { ResultText(ctx, audit::EntryDigestHex(Text(argv[0]))); }

// ForAudit is the normalised statement with every double-quoted word
// replaced too: SQLite reads a double-quoted word as a string wherever it
// names nothing in scope ("secret" in VALUES, even when some column is
// called secret), and which it is depends on where it stands; a name
// shown as ? is the price of never keeping a string.
std::string ForAudit(const std::string& sql) {
  std::string normal = core::sql::Normalize(sql, core::Dialect::kSqlite);
  std::string out;
  std::size_t at = 0;
  for (const core::sql::Token& t : core::sql::Tokenize(normal, core::Dialect::kSqlite)) {
    if (t.kind != core::sql::TokenKind::kQuotedIdentifier || normal[t.begin] != '"') continue;
    out.append(normal, at, t.begin - at);
    out += '?';
    at = t.end;
  }
  out.append(normal, at, std::string::npos);
  return out;
}

// vigil_audit_statement(): the statement in progress (the busy statement
// that writes, else the busy one), normalised for the log.
void Statement(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  const char* chosen = nullptr;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s != nullptr; s = sqlite3_next_stmt(db, s)) {
    if (!sqlite3_stmt_busy(s)) continue;
    const char* sql = sqlite3_sql(s);
    if (sql == nullptr) continue;
    if (chosen == nullptr || !sqlite3_stmt_readonly(s)) chosen = sql;
  }
  if (chosen == nullptr) {
    sqlite3_result_null(ctx);
    return;
  }
  AuditState* st = State(ctx);
  if (st->last_sql != chosen || st->last_normalized.empty()) {
    st->last_normalized = ForAudit(chosen);
    st->last_sql = chosen;
  }
  ResultText(ctx, st->last_normalized);
}

void Redact(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  ResultText(ctx, audit::Redact(Text(argv[0]), KeyOf(sqlite3_context_db_handle(ctx), State(ctx))));
}

void PgTrigger(sqlite3_context*, int, sqlite3_value**) {
  throw Error(ErrorCode::kNotSupported, "vigil_audit_trigger() is PostgreSQL's trigger function", {},
              "In SQLite, vigil_audit_enable(table) generates the audit triggers.");
}

const Impl kImpls[] = {
    {"vigil_audit_trigger", Bridge<PgTrigger>, nullptr, false, false},
    {"vigil_audit_enable", Bridge<Enable>, nullptr, false, true},
    {"vigil_audit_disable", Bridge<Disable>, nullptr, false, true},
    {"vigil_set_actor", Bridge<SetActor>, nullptr, false, true},
    {"vigil_actor", Bridge<Actor>, nullptr, false, true},
    {"vigil_audit_seal", Bridge<Seal>, nullptr, false, true},
    {"vigil_audit_verify", Bridge<Verify>, nullptr, false, true},
    {"vigil_audit_head", Bridge<Head>, nullptr, false, true},
    {"vigil_audit_purge", Bridge<Purge>, nullptr, false, true},
    {"vigil_audit_erase", Bridge<Erase>, nullptr, false, true},
    {"vigil_audit_digest", Digest, nullptr, false, false},
    {"vigil_audit_key", Bridge<Key>, nullptr, false, true},
    {"vigil_audit_statement", Bridge<Statement>, nullptr, false, true},
    {"vigil_audit_redact", Bridge<Redact>, nullptr, false, true},
};

}  // namespace

std::span<const Impl> AuditImpls() { return kImpls; }

std::optional<std::string_view> ConnectionApiSecret(void* state) {
  auto* s = static_cast<AuditState*>(state);
  if (s == nullptr) return std::nullopt;
  if (!s->api_secret && !s->api_env_read) {
    s->api_env_read = true;
    if (const char* env = std::getenv("VIGIL_API_KEY_SECRET"); env != nullptr && *env != '\0') {
      core::secrets::CheckSecret(env);
      s->api_secret = std::string(env);
    }
  }
  if (!s->api_secret) return std::nullopt;
  return std::string_view(*s->api_secret);
}

void SetConnectionApiSecret(void* state, std::optional<std::string_view> secret) {
  auto* s = static_cast<AuditState*>(state);
  if (s == nullptr) return;
  s->api_env_read = true;
  if (secret) s->api_secret = std::string(*secret);
  else s->api_secret.reset();
}

void* NewAuditState(int users, sqlite3* db) {
  auto* s = new (std::nothrow) AuditState();
  if (s != nullptr) {
    s->refs = users;
    s->db = db;
  }
  return s;
}

int RegisterAuditCapture(sqlite3* db, void* state) {
  for (int slot = 0; slot < 2; ++slot) {
    // Each module holds a reference: SQLite releases them one by one.
    static_cast<AuditState*>(state)->refs++;
    int rc = sqlite3_create_module_v2(db, kCaptureTables[slot], &kCaptureModules[slot], state, ReleaseAuditState);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

void ReleaseAuditState(void* p) {
  auto* s = static_cast<AuditState*>(p);
  if (--s->refs == 0) {
    RemoveMonitor(s->db);
    delete s;
  }
}

}  // namespace vigil::sqlite
