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
#include <array>
#include <cstdint>
#include <cstring>

#include <vector>

#include "base/companion.h"
#include "companions/api.h"
#include "validate/encoding.h"
#include "base/text.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

// The hashes run in companion modules (OpenSSL, Crypto++), loaded on first
// use; a validator cannot throw, so a missing one is a failed check.
bool DoubleSha256(const std::uint8_t* data, std::size_t len, std::uint8_t out[32]) {
  static const auto* openssl = companion::Try<VigilOpensslApi>("vigil_openssl", VIGIL_OPENSSL_API_ENTRY, VIGIL_OPENSSL_API_VERSION);
  std::uint8_t first[32];
  return openssl != nullptr && openssl->sha256(data, len, first) == 1 && openssl->sha256(first, 32, out) == 1;
}

Reason CheckBase58Address(std::string_view s) {
  if (s.size() < 26 || s.size() > 35) return "base58 address must be 26 to 35 characters";
  std::vector<std::uint8_t> raw;
  if (!encoding::Base58Decode(s, &raw)) return "invalid base58 character";
  if (raw.size() != 25) return "base58 payload must be 25 bytes";
  std::uint8_t hash[32];
  if (!DoubleSha256(raw.data(), 21, hash)) return "checksum computation failed";
  if (std::memcmp(hash, raw.data() + 21, 4) != 0) return "base58check checksum mismatch";
  std::uint8_t version = raw[0];
  if (version != 0x00 && version != 0x05 && version != 0x6f && version != 0xc4)
    return "unknown base58 address version";
  return nullptr;
}

Reason CheckSegwitAddress(std::string_view s) {
  std::string hrp;
  std::vector<std::uint8_t> data;
  const char* reason = nullptr;
  encoding::Bech32Variant variant = encoding::Bech32Decode(s, &hrp, &data, &reason);
  if (variant == encoding::Bech32Variant::kNone) return reason;
  if (hrp != "bc" && hrp != "tb") return "unknown address prefix (expected bc or tb)";
  if (data.empty()) return "missing witness version";
  int witver = data[0];
  if (witver > 16) return "invalid witness version";
  if (witver == 0 && variant != encoding::Bech32Variant::kBech32) return "witness version 0 needs a bech32 checksum";
  if (witver != 0 && variant != encoding::Bech32Variant::kBech32m) return "witness version 1+ needs a bech32m checksum";
  // Regroup the 5-bit program into bytes (BIP-173 convertbits, no padding).
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t prog_len = 0;
  for (std::size_t i = 1; i < data.size(); ++i) {
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
  // Segwit addresses carry an HRP and the separator '1'; base58 addresses
  // never contain a lower-case 'l' or an 'O', but may contain '1' anywhere,
  // so route by the prefixes of the two networks vigil accepts.
  auto starts = [&](const char* p) {
    return s.size() > 3 && (s[0] | 0x20) == p[0] && (s[1] | 0x20) == p[1] && s[2] == '1';
  };
  if (starts("bc") || starts("tb") || s.size() > 35) return CheckSegwitAddress(s);
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
  static const auto* keccak = companion::Try<VigilKeccakApi>("vigil_keccak", "vigil_keccak_api", 1);
  if (keccak == nullptr || keccak->keccak256(hex, 40, digest) != 1) return "checksum computation failed";
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
