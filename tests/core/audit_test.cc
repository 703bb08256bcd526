// audit_test.cc — the audit trail's canonical encoding and chain against an
// independent reference (tests/audit/canonical_ref.py prints these digests).
#include <gtest/gtest.h>

#include <string>

#include "audit/canonical.h"
#include "audit/entry.h"
#include "audit/staged.h"
#include "audit/trail.h"
#include "base/error.h"

#include <algorithm>
#include <map>
#include <vector>

namespace vigil::core::audit {
namespace {

const char* kRow0 = R"({"id": 1, "price": 1.50, "name": "caf\u00e9", "tags": ["a", null, true, false], "b": {"z": 1e2, "a": -0.0}})";
const char* kRow1 = R"({"price":15e-1,"id":1.0,"b":{"a":0,"z":100},"tags":["a",null,true,false],"name":"café"})";

TEST(AuditCanonical, Numbers) {
  EXPECT_EQ(CanonicalNumber("1.50"), "15e-1");
  EXPECT_EQ(CanonicalNumber("15e-1"), "15e-1");
  EXPECT_EQ(CanonicalNumber("0.15E1"), "15e-1");
  EXPECT_EQ(CanonicalNumber("100"), "1e2");
  EXPECT_EQ(CanonicalNumber("-0.0"), "0");
  EXPECT_EQ(CanonicalNumber("0"), "0");
  EXPECT_EQ(CanonicalNumber("12"), "12");
  EXPECT_EQ(CanonicalNumber("-1e-7"), "-1e-7");
  EXPECT_EQ(CanonicalNumber("1E+3"), "1e3");
  EXPECT_EQ(CanonicalNumber("123456789012345678901234567890.000"), "12345678901234567890123456789e1");
  for (const char* bad : {"", "-", "1.", ".5", "007", "1e", "1e+", "abc", "1..2", "+1", "1e99999999999", "1 "})
    EXPECT_THROW(CanonicalNumber(bad), Error) << bad;
}

TEST(AuditCanonical, SameValueSameBytes) {
  // Key order, spacing, escapes and number spellings do not matter; the
  // value does (PostgreSQL's jsonb text and SQLite's json text differ so).
  EXPECT_EQ(Encode(kRow0), Encode(kRow1));
  EXPECT_NE(Encode(R"({"a": 1})"), Encode(R"({"a": "1"})"));
  EXPECT_NE(Encode(R"({"a": [1, 2]})"), Encode(R"({"a": [2, 1]})"));
  EXPECT_EQ(Encode(R"({"a": 1, "a": 2})"), Encode(R"({"a": 2})"));  // the last duplicate, as jsonb keeps
  EXPECT_EQ(Encode("null"), "n");
  EXPECT_EQ(Encode("[]"), std::string("a\0\0\0\0\0\0\0\0", 9));
}

TEST(AuditCanonical, DigestsMatchTheReference) {
  EXPECT_EQ(Hex(RowDigest(kRow0)), "eb8d58c20d2e60de94686081662b234382eae1eda40a40be5979fd40dfad73cf");
  EXPECT_EQ(Hex(RowDigest(kRow1)), "eb8d58c20d2e60de94686081662b234382eae1eda40a40be5979fd40dfad73cf");
  EXPECT_EQ(Hex(RowDigest("[]")), "b3355b3c89b02a7671b29a91324a359ce6ac03f417034ea28ddba150f1c70e04");
  EXPECT_EQ(Hex(RowDigest(R"({"big": 123456789012345678901234567890.000, "tiny": 0.000000000000000000001})")),
            "123aba3c7300476f12b073e8e57be16d9be6680f239ecba5653bf5fae7606cb2");
  std::string entry = R"({"seq": 1, "op": "UPDATE", "table": "public.trades", "old": ")" + Hex(RowDigest(kRow0)) +
                      R"(", "new": null})";
  Digest d = EntryDigest(entry);
  EXPECT_EQ(Hex(d), "9c41c4ab7ec42bc6b0bd42adf34e27243dcd7b421dbe9583a5e55e1cb4382bd3");
  Digest l1 = Link(std::nullopt, d, std::nullopt);
  EXPECT_EQ(Hex(l1), "836810786b5bee412295d391d981c8ab90e9b811ca6887eb52d57c3c7c45925e");
  EXPECT_EQ(Hex(Link(l1, d, std::nullopt)), "da1d12e62f1339be72fdc68b360f92bb29911d612d6d82ddcb6eb84d2e34d27e");
  EXPECT_EQ(Hex(Link(std::nullopt, d, std::string_view("k3y"))),
            "233ab6adaec63d4d3d1c72e98c5c1ae31f4e24a7f29a745bf6c5659fde89c779");
}

TEST(AuditCanonical, HexAndBadInput) {
  Digest d = Sha256("abc");
  EXPECT_EQ(Hex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(FromHex(Hex(d)), d);
  EXPECT_FALSE(FromHex("xyz").has_value());
  EXPECT_FALSE(FromHex(std::string(64, 'g')).has_value());
  EXPECT_THROW(Encode("{"), Error);
  EXPECT_THROW(Encode(std::string(1000, '[') + std::string(1000, ']')), Error);
}


// The entry's encoding is built two ways — straight from its fields when
// sealing, and through its JSON (vigil_audit_digest) — and both agree with
// the JSON form whose images are their digests (EntryJson).
TEST(AuditEntry, EncodingsAgree) {
  Entry e;
  e.id = 42;
  e.at = "2026-01-01T00:00:00.000000Z";
  e.actor = "desk";
  e.table_schema = "public";
  e.table_name = "trades";
  e.operation = "UPDATE";
  e.row_key = R"({"id": 42})";
  e.old_row = R"({"id": 42, "price": 1.50})";
  e.new_row = R"({"id": 42, "price": 2})";
  e.changed_columns = R"(["price"])";
  std::string raw = R"({"id": 42, "at": "2026-01-01T00:00:00.000000Z", "actor": "desk", "table_schema": "public",
    "table_name": "trades", "operation": "UPDATE", "row_key": {"id": 42.0}, "old_row": {"price": 15e-1, "id": 42},
    "new_row": {"id": 42, "price": 2.0}, "changed_columns": ["price"], "seq": 9, "entry_hash": "ignored"})";
  EXPECT_EQ(EntryDigestHex(raw), Hex(EntryDigest(EntryJson(e))));
  // The link of a first entry, as docs/audit.md defines it.
  std::string bytes = "vigil-audit-chain-v1" + std::string(32, '\0');
  Digest d = EntryDigest(EntryJson(e));
  bytes.append(reinterpret_cast<const char*>(d.data()), d.size());
  EXPECT_EQ(Seal(std::nullopt, e, std::nullopt), Hex(Sha256(bytes)));
  // An erased image keeps the digest.
  Entry erased = e;
  erased.old_digest = *RowImageDigest(e.old_row, std::nullopt);
  erased.old_row.reset();
  EXPECT_EQ(Seal(std::nullopt, erased, std::nullopt), Seal(std::nullopt, e, std::nullopt));
  // A key changes every link.
  EXPECT_NE(Seal(std::nullopt, e, std::string_view("0123456789abcdef")), Seal(std::nullopt, e, std::nullopt));
}

TEST(AuditEntry, WhatTheEncoderCannotReadIsHashedAsText) {
  EXPECT_EQ(EncodeStored(R"({"a": 1})"), Encode(R"({"a": 1})"));
  for (const char* odd : {"{not json", "\xff\x80", "[1e999999999999]"}) {
    std::string x = EncodeStored(odd);
    ASSERT_FALSE(x.empty());
    EXPECT_EQ(x[0], 'x') << odd;
    EXPECT_EQ(x, EncodeStored(odd));
  }
  std::string deep = std::string(600, '[') + std::string(600, ']');
  EXPECT_EQ(EncodeStored(deep)[0], 'x');
}

TEST(AuditEntry, Options) {
  std::vector<std::string> cols = {"id", "pw", "note"};
  Options o = ParseOptions(R"({"redact": ["pw", "pw"], "exclude": ["note"], "statement": true})", &cols);
  EXPECT_EQ(OptionsJson(o), R"({"exclude":["note"],"redact":["pw"],"statement":true})");
  EXPECT_THROW(ParseOptions(R"({"redact": ["nope"]})", &cols), Error);
  EXPECT_THROW(ParseOptions(R"({"redact": ["pw"], "exclude": ["pw"]})", &cols), Error);
  EXPECT_THROW(ParseOptions(R"({"attnums": {"pw": 2}})", &cols), Error);  // the stored form only
  EXPECT_EQ(ParseOptions(R"({"attnums": {"pw": 2}})", nullptr, true).attnums.size(), 1u);
  EXPECT_THROW(CheckKey("short"), Error);
}

// A store in memory: the chain's logic without an engine.
class MemoryStore final : public AuditStore {
 public:
  struct Row {
    Entry e;
    std::int64_t seq = 0;  // 0: not sealed
    std::string hash;
  };
  std::vector<Row> rows;
  Chain chain;
  std::int64_t cap = 0, after = 0;

  void Add(const std::string& op, std::int64_t key) {
    Row r;
    r.e.id = static_cast<std::int64_t>(rows.size()) + 1;
    r.e.at = "2026-01-01T00:00:0" + std::to_string(r.e.id % 10) + ".000000Z";
    r.e.operation = op;
    r.e.table_schema = "main";
    r.e.table_name = "t";
    r.e.row_key = "{\"id\": " + std::to_string(key) + "}";
    r.e.new_row = "{\"id\": " + std::to_string(key) + ", \"v\": \"x\"}";
    rows.push_back(r);
  }
  Chain ReadChain(bool) override { return chain; }
  void StartSealing() override {
    cap = rows.empty() ? 0 : rows.back().e.id;
    after = 0;
  }
  std::vector<Entry> ReadUnsealed(int limit) override {
    std::vector<Entry> out;
    for (const Row& r : rows)
      if (r.seq == 0 && r.e.id > after && r.e.id <= cap && static_cast<int>(out.size()) < limit) out.push_back(r.e);
    if (!out.empty()) after = out.back().id;
    return out;
  }
  void WriteSeals(const std::vector<Seal1>& seals) override {
    for (const Seal1& s : seals)
      for (Row& r : rows)
        if (r.e.id == s.id) r.seq = s.seq, r.hash = s.hash;
  }
  void WriteHead(std::int64_t seq, const std::string& hash) override {
    chain.head_seq = seq;
    chain.head_hash = hash;
  }
  std::vector<Sealed> ReadSealed(std::int64_t after_seq, int limit) override {
    std::vector<const Row*> sealed;
    for (const Row& r : rows)
      if (r.seq > after_seq) sealed.push_back(&r);
    std::sort(sealed.begin(), sealed.end(), [](const Row* a, const Row* b) { return a->seq < b->seq; });
    std::vector<Sealed> out;
    for (const Row* r : sealed)
      if (static_cast<int>(out.size()) < limit) out.push_back({r->seq, r->e, r->hash});
    return out;
  }
  std::int64_t CountUnsealed() override {
    return std::count_if(rows.begin(), rows.end(), [](const Row& r) { return r.seq == 0; });
  }
  std::int64_t LastSeqBefore(std::string_view) override { return 0; }
  std::int64_t DeleteThrough(std::int64_t) override { return 0; }
  void WriteCheckpoint(std::int64_t, const std::string&) override {}
  std::vector<Entry> ReadKeyed(std::string_view, std::string_view, std::int64_t after_id, int limit) override {
    std::vector<Entry> out;
    for (const Row& r : rows)
      if (r.e.id > after_id && r.e.row_key && static_cast<int>(out.size()) < limit) out.push_back(r.e);
    return out;
  }
  void WriteErasures(const std::vector<Erasure>& erasures) override {
    for (const Erasure& x : erasures)
      for (Row& r : rows)
        if (r.e.id == x.id) {
          r.e.old_digest = x.old_digest, r.e.new_digest = x.new_digest;
          r.e.old_row.reset(), r.e.new_row.reset();
        }
  }
  void Append(const Entry& e) override {
    Row r;
    r.e = e;
    r.e.id = static_cast<std::int64_t>(rows.size()) + 1;
    r.e.at = "2026-01-02T00:00:00.000000Z";
    rows.push_back(r);
  }
};

std::string Problem(MemoryStore& s, std::optional<std::string> head = std::nullopt) {
  std::string r = Verify(s, std::nullopt, std::move(head));
  if (r.find("\"valid\":true") != std::string::npos) return "valid";
  std::size_t p = r.find("\"problem\":\"");
  if (p == std::string::npos) return r;
  return r.substr(p + 11, r.find('"', p + 11) - p - 11);
}

TEST(AuditTrail, SealVerifyTamperErase) {
  MemoryStore s;
  for (int i = 0; i < 2500; ++i) s.Add("INSERT", i % 7);
  EXPECT_EQ(SealPending(s, std::nullopt), 2500);
  EXPECT_EQ(SealPending(s, std::nullopt), 0);
  EXPECT_EQ(Problem(s), "valid");
  std::string head = *s.chain.head_hash;
  EXPECT_EQ(Problem(s, head), "valid");
  EXPECT_EQ(Problem(s, std::string(64, 'a')), Verify(s, std::nullopt, std::string(64, 'a')));  // not found: reported
  EXPECT_NE(Verify(s, std::nullopt, std::string(64, 'a')).find("\"expected_head_found\":false"), std::string::npos);
  // Each change is found.
  MemoryStore t = s;
  t.rows[1200].e.actor = "mallory";
  EXPECT_EQ(Problem(t), "changed");
  t = s;
  t.rows.erase(t.rows.begin());
  EXPECT_EQ(Problem(t), "missing");
  t = s;
  t.rows.pop_back();
  EXPECT_EQ(Problem(t), "missing");
  t = s;
  std::swap(t.rows[10].seq, t.rows[11].seq);
  EXPECT_EQ(Problem(t), "changed");
  // Erasure keeps the chain; the ERASE entry is sealed.
  EXPECT_EQ(Erase(s, "main", "t", R"({"id": 3.0})", std::nullopt), R"({"erased":357})");
  EXPECT_EQ(Problem(s), "valid");
  EXPECT_EQ(s.rows.back().e.operation, "ERASE");
  EXPECT_NE(s.rows.back().seq, 0);
  // A later entry is sealed onto the same chain.
  s.Add("INSERT", 1);
  EXPECT_EQ(SealPending(s, std::nullopt), 1);
  EXPECT_EQ(Problem(s), "valid");
}

}  // namespace
}  // namespace vigil::core::audit

// ---- staged batches (audit/staged.h) ----------------------------------------------

namespace vigil::core::audit {
namespace {

using staged::AppendHeader;
using staged::AppendValue;
using staged::Value;

Value Int(std::int64_t v) {
  Value x;
  x.kind = Value::kInteger;
  x.integer = v;
  return x;
}
Value Bytes(Value::Kind k, std::string_view s) {
  Value x;
  x.kind = k;
  x.bytes = s;
  return x;
}

TEST(AuditStaged, RoundTrip) {
  std::string b;
  Value real;
  real.kind = Value::kReal;
  real.real = -0.1;
  std::string nul("a\0b", 3);
  // First entry: everything given, absolute time.
  AppendHeader(b, 0, staged::Op::kInsert, 212000000000123, std::nullopt, std::optional<std::string_view>("ann"),
               std::optional<std::string_view>("insert into t values (?)"), 5);
  for (const Value& v : {Int(INT64_MIN), Int(INT64_MAX), real, Bytes(Value::kText, nul), Value{}}) AppendValue(b, v);
  // Second: same actor and statement, time 5 ms earlier (a clock step back).
  AppendHeader(b, 1, staged::Op::kUpdate, 212000000000118, 212000000000123, std::nullopt, std::nullopt, 1);
  AppendValue(b, Bytes(Value::kBlob, std::string_view("\xff\x00", 2)));
  // Third: actor cleared (NULL given), statement kept.
  AppendHeader(b, 0, staged::Op::kDelete, 212000000000118, 212000000000118,
               std::optional<std::string_view>(std::nullopt), std::nullopt, 0);
  staged::Reader r(b);
  staged::Entry e;
  ASSERT_TRUE(r.Next(e));
  EXPECT_EQ(e.layout, 0u);
  EXPECT_EQ(e.op, staged::Op::kInsert);
  EXPECT_EQ(e.at_ms, 212000000000123);
  EXPECT_EQ(e.actor, std::optional<std::string_view>("ann"));
  EXPECT_EQ(e.statement, std::optional<std::string_view>("insert into t values (?)"));
  ASSERT_EQ(e.values.size(), 5u);
  EXPECT_EQ(e.values[0].integer, INT64_MIN);
  EXPECT_EQ(e.values[1].integer, INT64_MAX);
  EXPECT_EQ(e.values[2].kind, Value::kReal);
  EXPECT_EQ(e.values[2].real, -0.1);
  EXPECT_EQ(e.values[3].bytes, nul);
  EXPECT_EQ(e.values[4].kind, Value::kNull);
  ASSERT_TRUE(r.Next(e));
  EXPECT_EQ(e.op, staged::Op::kUpdate);
  EXPECT_EQ(e.at_ms, 212000000000118);
  EXPECT_EQ(e.actor, std::optional<std::string_view>("ann"));
  EXPECT_EQ(e.values[0].kind, Value::kBlob);
  EXPECT_EQ(e.values[0].bytes, std::string_view("\xff\x00", 2));
  ASSERT_TRUE(r.Next(e));
  EXPECT_EQ(e.op, staged::Op::kDelete);
  EXPECT_FALSE(e.actor.has_value());
  EXPECT_EQ(e.statement, std::optional<std::string_view>("insert into t values (?)"));
  EXPECT_TRUE(e.values.empty());
  EXPECT_FALSE(r.Next(e));
}

TEST(AuditStaged, MalformedBatchesAreRefused) {
  std::string good;
  AppendHeader(good, 0, staged::Op::kInsert, 1000, std::nullopt, std::nullopt, std::nullopt, 1);
  AppendValue(good, Bytes(Value::kText, "hello"));
  // Every truncation of a good batch is refused, never read past its end.
  for (std::size_t n = 1; n < good.size(); ++n) {
    staged::Reader r(std::string_view(good).substr(0, n));
    staged::Entry e;
    EXPECT_THROW(r.Next(e), Error) << n;
  }
  auto refused = [](std::string bytes) {
    staged::Reader r(bytes);
    staged::Entry e;
    try {
      while (r.Next(e)) {
      }
    } catch (const Error& err) {
      return err.code() == ErrorCode::kPrerequisite;
    }
    return false;
  };
  EXPECT_TRUE(refused(std::string("\x00\x03\x00\x00", 4)));                        // operation 3
  EXPECT_TRUE(refused(std::string("\x00\x40\x00\x00", 4)));                        // unknown flag
  EXPECT_TRUE(refused(std::string("\x00\x30\x00\x01\x00", 5)));                    // a state record with values
  EXPECT_TRUE(refused(std::string("\x00\x10\x00\x01\x09", 5)));                    // unknown value kind
  EXPECT_TRUE(refused(std::string("\x00\x10\x00\xff\xff\x01", 6)));                // 32,767 values
  EXPECT_TRUE(refused(std::string("\x00\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 12)));  // a time past 2^64
  EXPECT_TRUE(refused(std::string("\x00\x00\x03\x00", 4)));                        // before the epoch
  EXPECT_TRUE(refused(std::string("\x00\x14\x00\x04\x00", 5)));                    // an actor that is a blob
  EXPECT_TRUE(refused(std::string("\x00\x10\x00\x01\x03\xff\xff\xff\xff\x0f", 10)));  // text past the end
}

TEST(AuditStaged, StateRecords) {
  // A batch cut out of a run starts with the state its first entry refers to.
  std::string b;
  staged::AppendState(b, 5000, std::optional<std::string_view>("ann"), std::optional<std::string_view>("stmt"));
  AppendHeader(b, 0, staged::Op::kInsert, 5007, 5000, std::nullopt, std::nullopt, 1);
  AppendValue(b, Int(1));
  staged::Reader r(b);
  staged::Entry e;
  ASSERT_TRUE(r.Next(e));
  EXPECT_EQ(e.at_ms, 5007);
  EXPECT_EQ(e.actor, std::optional<std::string_view>("ann"));
  EXPECT_EQ(e.statement, std::optional<std::string_view>("stmt"));
  EXPECT_EQ(e.values.size(), 1u);
  EXPECT_FALSE(r.Next(e));
}

TEST(AuditStaged, StoredForms) {
  auto refused = [](std::string_view stored, std::string* scratch) {
    try {
      (void)staged::Unpack(stored, scratch);
    } catch (const Error& err) {
      return err.code() == ErrorCode::kPrerequisite;
    }
    return false;
  };
  std::string scratch, packed;
  // A short batch stays plain: not worth loading LZ4 for.
  std::string small;
  AppendHeader(small, 0, staged::Op::kInsert, 1000, std::nullopt, std::nullopt, std::nullopt, 1);
  AppendValue(small, Int(7));
  staged::Pack(packed, small);
  EXPECT_EQ(packed[0], staged::kStoredPlain);
  EXPECT_EQ(staged::Unpack(packed, nullptr), small);
  // A batch of similar rows is an LZ4 block, smaller, read back the same;
  // an engine that writes no compressed batch (scratch null) refuses it.
  std::string big;
  for (int i = 0; i < 1000; ++i) {
    AppendHeader(big, 0, staged::Op::kInsert, 1000 + i, i ? std::optional<std::int64_t>(999 + i) : std::nullopt,
                 std::nullopt, std::nullopt, 3);
    for (const Value& v : {Int(i), Bytes(Value::kText, "AAPL"), Bytes(Value::kText, "2026-01-01T00:00:00Z")})
      AppendValue(big, v);
  }
  staged::Pack(packed, big);
  ASSERT_EQ(packed[0], staged::kStoredLz4);
  EXPECT_LT(packed.size(), big.size() / 2);
  EXPECT_EQ(staged::Unpack(packed, &scratch), big);
  EXPECT_TRUE(refused(packed, nullptr));
  // Every truncation of the block is refused, never read past its end.
  for (std::size_t n = 0; n < packed.size(); ++n) EXPECT_TRUE(refused(std::string_view(packed).substr(0, n), &scratch)) << n;
  // Bytes LZ4 cannot shrink stay plain.
  std::string noise;
  std::uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 4096; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    noise.push_back(static_cast<char>(x));
  }
  staged::Pack(packed, noise);
  EXPECT_EQ(packed[0], staged::kStoredPlain);
  EXPECT_EQ(staged::Unpack(packed, &scratch), noise);
  // Beyond kMaxPackedRaw entries stay plain, however well they compress.
  std::string huge(staged::kMaxPackedRaw + 1, 'x');
  staged::Pack(packed, huge);
  EXPECT_EQ(packed[0], staged::kStoredPlain);
  EXPECT_EQ(packed.size(), huge.size() + 1);
  huge.clear();
  huge.shrink_to_fit();
  // A size above kMaxPackedRaw is refused, though its block (300,000
  // bytes) could expand that far.
  std::string claim("\x01\x81\x80\x80\x20", 5);  // 64 MiB + 1
  claim.append(300000, '\0');
  EXPECT_TRUE(refused(claim, &scratch));
  // Sizes a block could not produce are refused before any allocation;
  // so are an unknown format and a missing one.
  EXPECT_TRUE(refused(std::string("\x01\xff\xff\xff\xff\x07\x00", 7), &scratch));  // 2^31 from one byte
  EXPECT_TRUE(refused(std::string("\x01\x00\x00", 3), &scratch));                     // size 0
  EXPECT_TRUE(refused(std::string("\x01\x80\x80\x80\x80\x80\x80\x01", 8), &scratch));  // a size too long
  EXPECT_TRUE(refused(std::string("\x01\x10\x01\x02", 4), &scratch));                 // not a block of 16
  EXPECT_TRUE(refused(std::string("\x02", 1), &scratch));
  EXPECT_TRUE(refused(std::string(), &scratch));
}

TEST(AuditStaged, Layouts) {
  staged::Layout l;
  l.table = "we\"ird";
  l.columns = {"id", "na\\me", "pw"};
  l.key = {"id"};
  l.redact = {"pw"};
  std::string json = staged::LayoutJson(l);
  staged::Layout back = staged::ParseLayout(json);
  EXPECT_EQ(back.table, l.table);
  EXPECT_EQ(back.columns, l.columns);
  EXPECT_EQ(back.key, l.key);
  EXPECT_EQ(back.redact, l.redact);
  EXPECT_EQ(back.ValueCount(staged::Op::kInsert), 3u);
  EXPECT_EQ(back.ValueCount(staged::Op::kUpdate), 7u);
  for (const char* bad : {"", "[]", "{\"table\":\"t\"}", R"({"table":"","columns":[],"key":[],"redact":[]})",
                          R"({"table":"t","columns":["a"],"key":["b"],"redact":[]})",
                          R"({"table":"t","columns":["a"],"key":[],"redact":["b"]})",
                          R"({"table":"t","columns":[1],"key":[],"redact":[]})",
                          R"({"table":"t","columns":["a\u0000"],"key":[],"redact":[]})"})
    EXPECT_THROW(staged::ParseLayout(bad), Error) << bad;
}

}  // namespace
}  // namespace vigil::core::audit
