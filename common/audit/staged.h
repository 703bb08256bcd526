// staged.h — audit entries staged in batches before the sealer writes them
// as rows of the log (SQLite; docs/audit.md "Staged entries").
//
// A write to an audited SQLite table hands its raw values to vigil's
// capture table; the connection keeps them in memory and writes them, at
// commit, as a few rows of vigil_audit_batch: one blob of up to
// kBatchEntries entries in the encoding below. The sealer turns each entry
// into a row of vigil_audit_log, with the same images the triggers built
// before, and deletes the batch in the same transaction. Nothing here
// knows SQLite; a batch comes from the file, so Reader takes any bytes and
// throws Error(kPrerequisite) on a malformed one, never reads past it.
//
// Encoding v1 of one entry (varint: unsigned LEB128, at most 10 bytes):
//   varint layout        — index into the batch's layouts
//   byte   flags         — bits 0-1 the operation (0 INSERT, 1 UPDATE,
//                          2 DELETE); bit 2 an actor follows, bit 3 a
//                          statement follows (otherwise the previous
//                          entry's, NULL before the first); bit 4 the time
//                          is absolute; bit 5 a state record: it sets the
//                          actor, statement and time the next entry refers
//                          to, holds no values (count 0) and is no entry
//   varint at            — milliseconds since the Julian epoch, as SQLite's
//                          clock gives them; without bit 4 the difference
//                          from the previous entry's, zigzag-encoded
//   [value actor] [value statement]
//   varint count, then count values
// A value: byte tag 0 NULL | 1 integer (zigzag varint) | 2 real (8 bytes,
// IEEE 754 little-endian) | 3 text (varint length, bytes) | 4 blob (same).
//
// A batch as stored (vigil_audit_batch.entries, on both engines): a byte
// giving its format, then
//   0 (kStoredPlain) the entries;
//   1 (kStoredLz4)   varint n, the entries' size, then the entries as one
//                    LZ4 block (liblz4, through the vigil_lz4 companion).
// SQLite writes format 1 when the block is smaller, the companion is there
// and the entries take at most kMaxPackedRaw bytes (a batch closes past
// 1 MiB: only an entry with a huge value is larger); PostgreSQL writes
// format 0, which TOAST compresses (lz4).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::core::audit::staged {

constexpr std::size_t kBatchEntries = 1000;
constexpr std::size_t kBatchBytes = std::size_t{1} << 20;  // a batch closes past 1 MiB
constexpr std::uint64_t kMaxValues = 6000;                   // an UPDATE: 2 × 2,000 columns and 2,000 flags

enum class Op : std::uint8_t { kInsert = 0, kUpdate = 1, kDelete = 2 };

struct Value {
  enum Kind : std::uint8_t { kNull = 0, kInteger = 1, kReal = 2, kText = 3, kBlob = 4 };
  Kind kind = kNull;
  std::int64_t integer = 0;
  double real = 0;
  std::string_view bytes;  // text or blob, pointing into the batch
};

// Writing into a buffer the caller sized (PostgreSQL's StringInfo):
// PutVarint writes at most 10 bytes, PutValueHead a value's tag and its
// integer, real or length (at most kMaxValueHead bytes) — a text's or
// blob's bytes follow it. Both return how many bytes they wrote.
// (Inline: SQLite's capture table calls them for every value it stages.)
constexpr std::size_t kMaxValueHead = 11;
inline std::size_t PutVarint(char* out, std::uint64_t v) noexcept {
  std::size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<char>(v);
  return n;
}
inline std::uint64_t Zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0);
}
inline std::size_t PutValueHead(char* out, const Value& v) noexcept {
  out[0] = static_cast<char>(v.kind);
  switch (v.kind) {
    case Value::kNull: return 1;
    case Value::kInteger: return 1 + PutVarint(out + 1, Zigzag(v.integer));
    case Value::kReal: {
      std::uint64_t bits;
      std::memcpy(&bits, &v.real, 8);
      for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<char>((bits >> (8 * i)) & 0xff);
      return 9;
    }
    case Value::kText:
    case Value::kBlob: return 1 + PutVarint(out + 1, v.bytes.size());
  }
  return 1;
}

// PutHeader writes an entry's header (AppendHeader's below) into a buffer
// the caller sized: at most kMaxHeader bytes, plus kMaxValueHead and the
// length (0 for NULL) of each actor or statement given.
constexpr std::size_t kMaxHeader = 32;
std::size_t PutHeader(char* out, std::uint64_t layout, Op op, std::int64_t at_ms, std::optional<std::int64_t> previous_at,
                      const std::optional<std::optional<std::string_view>>& actor,
                      const std::optional<std::optional<std::string_view>>& statement, std::uint64_t count) noexcept;

// Writing into a string: Header, then count values with AppendValue.
void AppendVarint(std::string& out, std::uint64_t v);
// previous_at: the previous entry's time in this batch, when the reader
// will know it (the time is then written as a difference).
void AppendHeader(std::string& out, std::uint64_t layout, Op op, std::int64_t at_ms,
                  std::optional<std::int64_t> previous_at, const std::optional<std::optional<std::string_view>>& actor,
                  const std::optional<std::optional<std::string_view>>& statement, std::uint64_t count);
void AppendValue(std::string& out, const Value& v);
// AppendState writes a state record: what a batch cut out of a longer run
// of entries starts from (the actor, statement and time its first entry
// may refer to as "the previous entry's").
void AppendState(std::string& out, std::int64_t at_ms, std::optional<std::string_view> actor,
                 std::optional<std::string_view> statement);

constexpr char kStoredPlain = 0, kStoredLz4 = 1;
// The largest entries an LZ4 batch holds: what a crafted batch can make
// the sealer allocate (LZ4 alone would allow 255 times its block).
constexpr std::size_t kMaxPackedRaw = std::size_t{64} << 20;

// Pack writes `entries` in stored form into out (replacing what it held):
// LZ4 when the vigil_lz4 companion can be loaded and the block is smaller,
// otherwise plain. It never fails for want of the companion.
void Pack(std::string& out, std::string_view entries);
// Unpack returns the entries of a stored batch: a view into `stored`, or
// (format 1) into *scratch, which it fills. With scratch null a compressed
// batch is refused (PostgreSQL writes none). Throws Error(kPrerequisite)
// on a malformed batch — an unknown format, a size LZ4 could not have
// produced from the block, a block that does not decompress to exactly
// that size — and when format 1 needs the companion and it is missing.
std::string_view Unpack(std::string_view stored, std::string* scratch);

struct Entry {
  std::uint64_t layout = 0;
  Op op = Op::kInsert;
  std::int64_t at_ms = 0;
  std::optional<std::string_view> actor, statement;
  std::vector<Value> values;
};

// Reader walks one batch's entries in order.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : data_(bytes) {}
  // Next decodes the next entry into e; false at the end.
  bool Next(Entry& e);

 private:
  std::uint64_t Varint();
  Value ReadValue();
  std::string_view Take(std::uint64_t n);
  std::string_view data_;
  std::size_t at_ = 0;
  std::optional<std::string_view> actor_, statement_;
  std::int64_t at_ms_ = 0;
};

// Layout is what a generated trigger hands over with its values: the
// table, its audited columns in table order, the primary key's columns
// among them and the redacted ones, as the JSON object
// {"table": t, "columns": [..], "key": [..], "redact": [..]}.
struct Layout {
  std::string table;
  std::vector<std::string> columns, key, redact;
  // Values: the columns' (old, then new for an UPDATE) and, for an UPDATE,
  // one flag per redacted column: whether its value changed (the images
  // hold digests, which cannot tell 1 from 1.0).
  std::uint64_t ValueCount(Op op) const {
    return op == Op::kUpdate ? 2 * columns.size() + redact.size() : columns.size();
  }
};
std::string LayoutJson(const Layout& l);
// ParseLayout reads a layout from a trigger or a batch: throws
// Error(kPrerequisite) unless it is one, with names that are non-empty
// UTF-8 without NUL, at most 2,000 columns, and key and redact among them.
Layout ParseLayout(std::string_view json);

}  // namespace vigil::core::audit::staged
