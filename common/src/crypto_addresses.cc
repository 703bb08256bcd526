// crypto_addresses.cc — Bitcoin and Ethereum addresses (SPEC §1).
//
// btc_address: base58check P2PKH/P2SH (version 0x00/0x05 mainnet,
// 0x6f/0xc4 testnet) and segwit addresses for HRP "bc" and "tb": witness
// version 0 with a bech32 checksum (BIP-173) and a 20- or 32-byte program,
// versions 1–16 with a bech32m checksum (BIP-350) and a 2–40-byte program.
// Base58 and bech32 are encodings with checksums, not cryptographic
// primitives; the double SHA-256 inside base58check comes from OpenSSL.
//
// eth_address: "0x" + 40 hex digits. All-lower and all-upper digits are
// unchecksummed and valid; mixed case must match EIP-55, whose Keccak-256
// comes from Crypto++ (OpenSSL 3.0 has SHA3-256 but not Keccak-256).
#include <openssl/evp.h>

#include <cryptopp/keccak.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "text.h"
#include "vigil/validators.h"
#include "vigil/core_guard.h"

namespace vigil::core {
namespace {

constexpr char kBase58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

int Base58Value(unsigned char c) {
  const char* p = c ? std::strchr(kBase58, c) : nullptr;
  return p ? static_cast<int>(p - kBase58) : -1;
}

bool DoubleSha256(const std::uint8_t* data, std::size_t len, std::uint8_t out[32]) {
  std::uint8_t first[32];
  unsigned int n = 0;
  if (EVP_Digest(data, len, first, &n, EVP_sha256(), nullptr) != 1) return false;
  return EVP_Digest(first, 32, out, &n, EVP_sha256(), nullptr) == 1;
}

Reason CheckBase58Address(std::string_view s) {
  if (s.size() < 26 || s.size() > 35) return "base58 address must be 26 to 35 characters";
  // Decode into a fixed 25-byte big-endian number; overflow means too long.
  std::array<std::uint8_t, 25> num{};
  for (unsigned char c : s) {
    int v = Base58Value(c);
    if (v < 0) return "invalid base58 character";
    int carry = v;
    for (std::size_t i = num.size(); i-- > 0;) {
      carry += 58 * num[i];
      num[i] = static_cast<std::uint8_t>(carry & 0xFF);
      carry >>= 8;
    }
    if (carry != 0) return "base58 payload longer than 25 bytes";
  }
  // Leading '1's are leading zero bytes; the value must fill exactly 25 bytes.
  std::size_t ones = 0;
  while (ones < s.size() && s[ones] == '1') ++ones;
  std::size_t zeros = 0;
  while (zeros < num.size() && num[zeros] == 0) ++zeros;
  if (zeros != ones) return "base58 payload must be 25 bytes";
  std::uint8_t hash[32];
  if (!DoubleSha256(num.data(), 21, hash)) return "checksum computation failed";
  if (std::memcmp(hash, num.data() + 21, 4) != 0) return "base58check checksum mismatch";
  std::uint8_t version = num[0];
  if (version != 0x00 && version != 0x05 && version != 0x6f && version != 0xc4)
    return "unknown base58 address version";
  return nullptr;
}

constexpr char kBech32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

std::uint32_t Polymod(const std::uint8_t* v, std::size_t n, std::uint32_t chk) {
  static const std::uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v[i];
    for (int j = 0; j < 5; ++j)
      if ((top >> j) & 1) chk ^= kGen[j];
  }
  return chk;
}

Reason CheckSegwitAddress(std::string_view s) {
  if (s.size() > 90) return "bech32 address longer than 90 characters";
  bool lower = false, upper = false;
  for (unsigned char c : s) {
    if (c < 33 || c > 126) return "invalid character in bech32 address";
    if (text::IsLower(c)) lower = true;
    if (text::IsUpper(c)) upper = true;
  }
  if (lower && upper) return "bech32 address mixes upper and lower case";
  std::size_t sep = s.rfind('1');
  if (sep == std::string_view::npos || sep == 0) return "missing bech32 separator";
  if (s.size() - sep - 1 < 6) return "bech32 data part too short";
  char hrp[3] = {0, 0, 0};
  if (sep != 2) return "unknown address prefix (expected bc or tb)";
  hrp[0] = static_cast<char>(s[0] | 0x20);
  hrp[1] = static_cast<char>(s[1] | 0x20);
  if (!((hrp[0] == 'b' && hrp[1] == 'c') || (hrp[0] == 't' && hrp[1] == 'b')))
    return "unknown address prefix (expected bc or tb)";
  std::uint8_t values[96];
  std::size_t n = 0;
  // Expanded HRP: high bits, 0, low bits.
  values[n++] = static_cast<std::uint8_t>(hrp[0] >> 5);
  values[n++] = static_cast<std::uint8_t>(hrp[1] >> 5);
  values[n++] = 0;
  values[n++] = static_cast<std::uint8_t>(hrp[0] & 31);
  values[n++] = static_cast<std::uint8_t>(hrp[1] & 31);
  std::size_t data_start = n;
  for (std::size_t i = sep + 1; i < s.size(); ++i) {
    const char* p = std::strchr(kBech32, s[i] | 0x20);
    if (p == nullptr || s[i] == 0) return "invalid bech32 character";
    values[n++] = static_cast<std::uint8_t>(p - kBech32);
  }
  std::uint32_t chk = Polymod(values, n, 1);
  const std::uint8_t* data = values + data_start;
  std::size_t data_len = n - data_start - 6;  // without checksum
  if (data_len < 1) return "missing witness version";
  int witver = data[0];
  if (witver > 16) return "invalid witness version";
  std::uint32_t want = witver == 0 ? 1 : 0x2bc830a3;
  if (chk != want) {
    if (chk == 1 || chk == 0x2bc830a3) return witver == 0 ? "witness version 0 needs a bech32 checksum" : "witness version 1+ needs a bech32m checksum";
    return "bech32 checksum mismatch";
  }
  // Regroup 5-bit values into bytes.
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t prog_len = 0;
  for (std::size_t i = 1; i < data_len; ++i) {
    acc = (acc << 5) | data[i];
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      ++prog_len;
    }
    acc &= (1u << bits) - 1;
  }
  if (bits >= 5) return "invalid padding in witness program";
  if (acc != 0) return "non-zero padding in witness program";
  if (prog_len < 2 || prog_len > 40) return "witness program must be 2 to 40 bytes";
  if (witver == 0 && prog_len != 20 && prog_len != 32) return "version 0 witness program must be 20 or 32 bytes";
  return nullptr;
}

}  // namespace

Reason CheckBtcAddress(std::string_view s) noexcept {
  if (s.empty()) return "empty";
  if (s.size() > 90) return "longer than 90 characters";
  if (s.size() > 3 && (s[2] == '1') && ((s[0] | 0x20) == 'b' || (s[0] | 0x20) == 't'))
    return CheckSegwitAddress(s);
  if (s.rfind('1') != std::string_view::npos && s.size() > 35) return CheckSegwitAddress(s);
  return CheckBase58Address(s);
}

Reason CheckEthAddress(std::string_view s) noexcept {
  if (s.size() != 42) return "expected 0x followed by 40 hex digits";
  if (s[0] != '0' || s[1] != 'x') return "expected 0x followed by 40 hex digits";
  bool lower = false, upper = false;
  for (std::size_t i = 2; i < 42; ++i) {
    unsigned char c = s[i];
    if (!text::IsHex(c)) return "non-hexadecimal character";
    if (text::IsLower(c)) lower = true;
    if (text::IsUpper(c)) upper = true;
  }
  if (!(lower && upper)) return nullptr;  // unchecksummed
  char hex[40];
  for (int i = 0; i < 40; ++i) hex[i] = static_cast<char>(s[i + 2] | (text::IsUpper(s[i + 2]) ? 0x20 : 0));
  std::uint8_t digest[32];
  try {
    CryptoPP::Keccak_256 keccak;
    keccak.CalculateDigest(digest, reinterpret_cast<const CryptoPP::byte*>(hex), 40);
  } catch (...) {
    return "checksum computation failed";
  }
  for (int i = 0; i < 40; ++i) {
    unsigned char c = s[i + 2];
    if (!text::IsAlpha(c)) continue;
    int nibble = (digest[i / 2] >> (i % 2 ? 0 : 4)) & 0xF;
    bool want_upper = nibble >= 8;
    if (want_upper != text::IsUpper(c)) return "EIP-55 checksum mismatch (mixed case)";
  }
  return nullptr;
}

}  // namespace vigil::core
