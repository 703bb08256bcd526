// encoding.cc — base58 and bech32/bech32m (BIP-173, BIP-350) decoding.
//
// These are encodings with error-detecting checksums, not cryptographic
// primitives; the reference algorithms are short and specified in the BIPs.
#include "validate/encoding.h"

#include <cstring>

#include "base/text.h"
#include "base/core_guard.h"

namespace vigil::core::encoding {
namespace {

constexpr char kBase58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr char kBech32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr std::uint32_t kBech32mConst = 0x2bc830a3;

std::uint32_t Polymod(const std::vector<std::uint8_t>& v) {
  static const std::uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  std::uint32_t chk = 1;
  for (std::uint8_t x : v) {
    std::uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ x;
    for (int j = 0; j < 5; ++j)
      if ((top >> j) & 1) chk ^= kGen[j];
  }
  return chk;
}

}  // namespace

bool Base58Decode(std::string_view s, std::vector<std::uint8_t>* out) {
  if (s.size() > 512) return false;
  std::size_t zeros = 0;
  while (zeros < s.size() && s[zeros] == '1') ++zeros;
  // Big-endian base-256 number, grown as needed (log(58)/log(256) < 0.74).
  std::vector<std::uint8_t> num(s.size() * 733 / 1000 + 1, 0);
  for (unsigned char c : s) {
    const char* p = c ? std::strchr(kBase58, c) : nullptr;
    if (p == nullptr) return false;
    int carry = static_cast<int>(p - kBase58);
    for (std::size_t i = num.size(); i-- > 0;) {
      carry += 58 * num[i];
      num[i] = static_cast<std::uint8_t>(carry & 0xFF);
      carry >>= 8;
    }
  }
  std::size_t lead = 0;
  while (lead < num.size() && num[lead] == 0) ++lead;
  out->assign(zeros, 0);
  out->insert(out->end(), num.begin() + static_cast<std::ptrdiff_t>(lead), num.end());
  return true;
}

Bech32Variant Bech32Decode(std::string_view s, std::string* hrp, std::vector<std::uint8_t>* data,
                           const char** reason) {
  auto fail = [&](const char* r) {
    *reason = r;
    return Bech32Variant::kNone;
  };
  if (s.size() > 90) return fail("bech32 string longer than 90 characters");
  bool lower = false, upper = false;
  for (unsigned char c : s) {
    if (c < 33 || c > 126) return fail("invalid character in bech32 string");
    if (text::IsLower(c)) lower = true;
    if (text::IsUpper(c)) upper = true;
  }
  if (lower && upper) return fail("bech32 string mixes upper and lower case");
  std::size_t sep = s.rfind('1');
  if (sep == std::string_view::npos) return fail("missing bech32 separator");
  if (sep == 0) return fail("empty bech32 human-readable part");
  if (s.size() - sep - 1 < 6) return fail("bech32 checksum too short");
  hrp->clear();
  for (std::size_t i = 0; i < sep; ++i) hrp->push_back(static_cast<char>(text::IsUpper(s[i]) ? s[i] | 0x20 : s[i]));
  std::vector<std::uint8_t> values;
  values.reserve(hrp->size() * 2 + 1 + s.size());
  for (char c : *hrp) values.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c) >> 5));
  values.push_back(0);
  for (char c : *hrp) values.push_back(static_cast<std::uint8_t>(c & 31));
  data->clear();
  for (std::size_t i = sep + 1; i < s.size(); ++i) {
    char c = static_cast<char>(text::IsUpper(s[i]) ? s[i] | 0x20 : s[i]);
    const char* p = std::strchr(kBech32, c);
    if (p == nullptr) return fail("invalid bech32 character");
    values.push_back(static_cast<std::uint8_t>(p - kBech32));
    data->push_back(static_cast<std::uint8_t>(p - kBech32));
  }
  data->resize(data->size() - 6);
  std::uint32_t chk = Polymod(values);
  if (chk == 1) return Bech32Variant::kBech32;
  if (chk == kBech32mConst) return Bech32Variant::kBech32m;
  return fail("bech32 checksum mismatch");
}

}  // namespace vigil::core::encoding
