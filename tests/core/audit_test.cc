// audit_test.cc — the audit trail's canonical encoding and chain against an
// independent reference (tests/audit/canonical_ref.py prints these digests).
#include <gtest/gtest.h>

#include <string>

#include "audit/canonical.h"
#include "base/error.h"

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

}  // namespace
}  // namespace vigil::core::audit
