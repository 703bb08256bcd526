// age_test.cc — the age v1 format with an scrypt recipient: round trips,
// and every way a file can be wrong (the interoperation with the real age
// command is tests/integration/backup.py).
#include <gtest/gtest.h>

#include <string>

#include "base/error.h"
#include "error_code.h"
#include "secrets/age.h"

namespace vigil::core::age {
namespace {

struct StringSink : Sink {
  std::string data;
  void Write(std::string_view b) override { data.append(b); }
};
struct StringSource : Source {
  std::string data;
  std::size_t pos = 0, step;
  explicit StringSource(std::string d, std::size_t s = 1 << 20) : data(std::move(d)), step(s) {}
  std::size_t Read(char* buf, std::size_t n) override {
    std::size_t k = std::min({n, step, data.size() - pos});
    data.copy(buf, k, pos);
    pos += k;
    return k;
  }
};

std::string Enc(const std::string& plain, const std::string& pass = "correct horse", int wf = 10) {
  StringSink s;
  Encrypt(plain, pass, wf, s);
  return s.data;
}

std::string Dec(const std::string& file, const std::string& pass = "correct horse", int max = kMaxWorkFactor,
                std::size_t step = 1 << 20) {
  StringSource src(file, step);
  StringSink out;
  Decrypt(src, pass, max, out);
  return out.data;
}

using testing::CodeOf;

TEST(Age, Base64) {
  std::string out;
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg");
  EXPECT_EQ(Base64("fo"), "Zm8");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_TRUE(Unbase64("Zm8", &out));
  EXPECT_EQ(out, "fo");
  EXPECT_FALSE(Unbase64("Zm9", &out));   // non-canonical: unused bits set
  EXPECT_FALSE(Unbase64("Zm8=", &out));  // padding
  EXPECT_FALSE(Unbase64("Z", &out));
  EXPECT_FALSE(Unbase64("Zm-8", &out));
}

TEST(Age, RoundTrips) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536},
                           std::size_t{65537}, std::size_t{3 * 65536}, std::size_t{200000}}) {
    std::string plain(size, '\0');
    for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<char>(i * 7 + 3);
    std::string file = Enc(plain);
    EXPECT_EQ(file.rfind("age-encryption.org/v1\n-> scrypt ", 0), 0u);
    EXPECT_EQ(Dec(file), plain) << size;
    EXPECT_EQ(Dec(file, "correct horse", kMaxWorkFactor, 7), plain) << size;  // a source that reads 7 bytes at a time
  }
}

TEST(Age, WrongPassphraseTruncatedChanged) {
  std::string plain(150000, 'x');
  std::string file = Enc(plain);
  EXPECT_EQ(CodeOf([&] { Dec(file, "wrong horse"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([&] { Dec(file, ""); }), ErrorCode::kInvalidParameter);
  // Truncated anywhere: in the header, after it, mid-chunk, at a chunk boundary.
  std::size_t header = file.find("\n---") + 1;
  header = file.find('\n', header) + 1;
  for (std::size_t cut : {std::size_t{10}, header - 5, header, header + 16, header + 16 + 100,
                          header + 16 + 65536 + 16, file.size() - 1})
    EXPECT_EQ(CodeOf([&] { Dec(file.substr(0, cut)); }), ErrorCode::kInvalidParameter) << cut;
  // One flipped byte anywhere: header, nonce, any chunk, the last tag.
  for (std::size_t at : {std::size_t{35}, header - 3, header + 3, header + 16 + 10, header + 16 + 70000,
                         file.size() - 1}) {
    std::string bad = file;
    bad[at] = static_cast<char>(bad[at] ^ 1);
    EXPECT_EQ(CodeOf([&] { Dec(bad); }), ErrorCode::kInvalidParameter) << at;
  }
  // Bytes after the end.
  EXPECT_EQ(CodeOf([&] { Dec(file + "x"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([&] { Dec(""); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([&] { Dec("SQLite format 3"); }), ErrorCode::kInvalidParameter);
}

TEST(Age, WorkFactorIsBounded) {
  std::string file = Enc("data", "pw", 10);
  // The same file claiming 2^40: refused before any scrypt work (the MAC
  // could not be checked without it).
  std::string greedy = file;
  greedy.replace(greedy.find(" 10\n"), 4, " 40\n");
  EXPECT_EQ(CodeOf([&] { Dec(greedy, "pw"); }), ErrorCode::kProgramLimit);
  EXPECT_EQ(CodeOf([&] { Dec(file, "pw", 9); }), ErrorCode::kProgramLimit);
  std::string leading_zero = file;
  leading_zero.replace(leading_zero.find(" 10\n"), 4, " 010\n");
  EXPECT_EQ(CodeOf([&] { Dec(leading_zero, "pw"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([&] { Enc("x", "pw", 9); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([&] { Enc("x", "pw", 23); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([&] { Enc("x", "", 10); }), ErrorCode::kInvalidParameter);
}

TEST(Age, OtherRecipientsAndStanzas) {
  std::string file = Enc("data", "pw", 10);
  std::string x25519 = file;
  x25519.replace(x25519.find("-> scrypt"), 9, "-> X25519");
  EXPECT_EQ(CodeOf([&] { Dec(x25519, "pw"); }), ErrorCode::kNotSupported);
  std::string two = file;
  std::size_t mac = two.find("---");
  two.insert(mac, "-> scrypt AAAAAAAAAAAAAAAAAAAAAA 10\nAAAA\n");
  EXPECT_EQ(CodeOf([&] { Dec(two, "pw"); }), ErrorCode::kInvalidParameter);
}

}  // namespace
}  // namespace vigil::core::age
