// secrets_test.cc — passwords (Argon2 PHC strings, the reference
// implementation's test vectors) and API keys.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "base/error.h"
#include "error_code.h"
#include "secrets/secrets.h"

namespace vigil::core::secrets {
namespace {

// The reference implementation's test vectors (phc-winner-argon2 test.c:
// "password", salt "somesalt", t=2, m=64 MiB, p=1); Debian's argon2 tool
// prints the same strings.
const char* kRefId = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
const char* kRefI = "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA";
const char* kRefI10 = "$argon2i$m=65536,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";
const char* kRefD = "$argon2d$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$lV5dWxY6G2C7o1/DbQSWR0+6T2tZrVNihmbwf7L5Pq8";

using testing::CodeOf;

TEST(Password, ReferenceVectorsVerify) {
  for (const char* h : {kRefId, kRefI, kRefI10, kRefD}) {
    EXPECT_TRUE(PasswordVerify("password", h)) << h;
    EXPECT_FALSE(PasswordVerify("passwore", h)) << h;
    EXPECT_FALSE(PasswordVerify("", h)) << h;
  }
  // One flipped character of the hash, of the salt, of a parameter.
  EXPECT_FALSE(PasswordVerify("password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFiFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"));
  EXPECT_FALSE(PasswordVerify("password", "$argon2id$v=19$m=65536,t=2,p=1$c29uZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"));
  // A last character whose unused bits are set is not canonical base64:
  // libargon2 refuses it, so it is malformed, not a mismatch.
  EXPECT_THROW(PasswordVerify("password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPd"),
               Error);
  EXPECT_FALSE(PasswordVerify("password", "$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"));
}

TEST(Password, HashRoundTrip) {
  PasswordPolicy p;  // OWASP's 19 MiB, 2 passes, 1 lane
  std::string a = PasswordHash("correct horse battery staple", p);
  std::string b = PasswordHash("correct horse battery staple", p);
  EXPECT_EQ(a.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << a;
  EXPECT_NE(a, b);  // a fresh salt each time
  EXPECT_TRUE(PasswordVerify("correct horse battery staple", a));
  EXPECT_FALSE(PasswordVerify("correct horse battery stapl", a));
  EXPECT_FALSE(PasswordNeedsRehash(a, p));
  // Bytes, not characters: NUL and invalid UTF-8 are part of a password.
  std::string odd("a\0b\xff", 4);
  std::string h = PasswordHash(odd, p);
  EXPECT_TRUE(PasswordVerify(odd, h));
  EXPECT_FALSE(PasswordVerify("a", h));
  // 1 MB passwords hash and verify; over 1 MiB is 54000.
  std::string big(1000000, 'x');
  EXPECT_TRUE(PasswordVerify(big, PasswordHash(big, p)));
  EXPECT_EQ(CodeOf([&] { PasswordHash(std::string(kMaxPassword + 1, 'x'), p); }), ErrorCode::kProgramLimit);
  EXPECT_EQ(CodeOf([&] { PasswordHash("", p); }), ErrorCode::kInvalidParameter);
}

TEST(Password, NeedsRehash) {
  PasswordPolicy p;
  EXPECT_TRUE(PasswordNeedsRehash(kRefId, p));   // other parameters
  EXPECT_TRUE(PasswordNeedsRehash(kRefI, p));    // Argon2i
  EXPECT_TRUE(PasswordNeedsRehash(kRefI10, p));  // version 1.0
  PasswordPolicy ref = ParsePolicy(R"({"memory_kib": 65536, "iterations": 2})");
  EXPECT_TRUE(PasswordNeedsRehash(kRefId, ref));  // its parameters, but an 8-byte salt
  EXPECT_FALSE(PasswordNeedsRehash(PasswordHash("pw", ref), ref));
  EXPECT_TRUE(PasswordNeedsRehash(kRefD, ref));
  EXPECT_TRUE(PasswordNeedsRehash(PasswordHash("pw", p), ref));
  // Stronger than the policy: no rehash; weaker in either memory or passes: rehash.
  EXPECT_FALSE(PasswordNeedsRehash(PasswordHash("pw", ref), p));
  EXPECT_TRUE(PasswordNeedsRehash(PasswordHash("pw", ParsePolicy(R"({"memory_kib": 47104, "iterations": 1})")), p));
}

TEST(Password, Policy) {
  PasswordPolicy d = ParsePolicy(std::nullopt);
  EXPECT_EQ(d.memory_kib, 19456u);
  EXPECT_EQ(d.iterations, 2u);
  EXPECT_EQ(d.parallelism, 1u);
  EXPECT_EQ(ParsePolicy("null").memory_kib, 19456u);
  EXPECT_EQ(ParsePolicy(R"({"memory_kib": 47104, "iterations": 1})").iterations, 1u);
  EXPECT_EQ(ParsePolicy(R"({"memory_kib": 7168, "iterations": 5})").memory_kib, 7168u);
  for (const char* weak : {R"({"memory_kib": 19455})", R"({"memory_kib": 47103, "iterations": 1})",
                           R"({"memory_kib": 7168, "iterations": 4})", R"({"memory_kib": 0})",
                           R"({"iterations": -1})", R"({"iterations": 1.5})", R"({"memory_kb": 65536})", "[]",
                           R"({"memory_kib": 19456, "parallelism": 4096})"})
    EXPECT_NE(CodeOf([&] { ParsePolicy(weak); }), ErrorCode::kInternal) << weak;
  EXPECT_EQ(CodeOf([&] { ParsePolicy(R"({"memory_kib": 19455})"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([&] { ParsePolicy(R"({"memory_kib": 262145})"); }), ErrorCode::kProgramLimit);
  EXPECT_EQ(CodeOf([&] { ParsePolicy(R"({"memory_kib": 262144, "iterations": 5})"); }), ErrorCode::kProgramLimit);
  EXPECT_EQ(CodeOf([&] { ParsePolicy("{"); }), ErrorCode::kInvalidText);
}

TEST(Password, StoredHashesAreBounded) {
  // A stored hash cannot make verify do unbounded work: refused before any.
  for (const char* greedy : {"$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                             "$argon2id$v=19$m=65536,t=4294967295,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                             "$argon2id$v=19$m=65536,t=17,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                             "$argon2id$v=19$m=65536,t=2,p=255$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"})
    EXPECT_EQ(CodeOf([&] { PasswordVerify("password", greedy); }), ErrorCode::kProgramLimit) << greedy;
  for (const char* bad : {"", "$argon2id$", "$argon2x$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFh",
                          "$argon2id$v=20$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                          "$argon2id$v=19$t=2,m=65536,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                          "$argon2id$v=19$m=065536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                          "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                          "$argon2id$v=19$m=65536,t=2,p=1$c29t$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                          "$argon2id$v=19$m=65536,t=0,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
                          "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc$x",
                          "$2b$12$abcdefghijklmnopqrstuu"})
    EXPECT_EQ(CodeOf([&] { PasswordVerify("password", bad); }), ErrorCode::kInvalidParameter) << bad;
}

TEST(ApiKey, GenerateHashVerify) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string k = ApiKeyGenerate("sk_live");
    ASSERT_EQ(k.size(), 7u + 1 + 52) << k;
    EXPECT_EQ(k.rfind("sk_live_", 0), 0u);
    EXPECT_EQ(k.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567", 8), std::string::npos) << k;
    seen.insert(k);
  }
  EXPECT_EQ(seen.size(), 100u);
  const std::string secret = "0123456789abcdef0123456789abcdef";
  // The openssl command computes the same:
  //   printf 'vigil-api-key-v1\nvk_test' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
  std::string h = ApiKeyHash("vk_test", secret);
  EXPECT_EQ(h, "hmac-sha256$93d096ffc854fbb2eaf38826c39747b48423604a53835a529f5c61d251865f34");
  EXPECT_EQ(ApiKeyHash("vk_test", secret), h);  // deterministic: an indexed column finds it
  EXPECT_NE(ApiKeyHash("vk_test", secret + "x"), h);
  EXPECT_TRUE(ApiKeyVerify("vk_test", h, secret));
  std::string upper = h;
  for (std::size_t i = 12; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_TRUE(ApiKeyVerify("vk_test", upper, secret));
  EXPECT_FALSE(ApiKeyVerify("vk_tesu", h, secret));
  EXPECT_FALSE(ApiKeyVerify("", h, secret));
  EXPECT_FALSE(ApiKeyVerify("vk_test", h, secret + "x"));
  EXPECT_EQ(CodeOf([&] { ApiKeyVerify("vk_test", "sha256$00", secret); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([&] { ApiKeyHash("vk_test", "short"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([&] { ApiKeyHash("", secret); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([&] { ApiKeyHash(std::string(4097, 'k'), secret); }), ErrorCode::kInvalidParameter);
  for (const char* bad : {"", "has space", "dash-ed", "caf\xc3\xa9", "123456789012345678901234567890123"})
    EXPECT_EQ(CodeOf([&] { ApiKeyGenerate(bad); }), ErrorCode::kInvalidParameter) << bad;
}

}  // namespace
}  // namespace vigil::core::secrets
