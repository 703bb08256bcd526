// encoding.h — base58 and bech32/bech32m codecs used by btc_address
// (internal; exposed for the codec test vectors).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::core::encoding {

// Base58Decode decodes Bitcoin base58 (no checksum). Returns false on a
// character outside the alphabet or an input longer than 512 characters.
bool Base58Decode(std::string_view s, std::vector<std::uint8_t>* out);

enum class Bech32Variant { kNone, kBech32, kBech32m };

// Bech32Decode checks the generic BIP-173/BIP-350 rules (length ≤ 90, HRP of
// 1–83 printable characters, no mixed case, separator, 6-character checksum)
// and returns which checksum constant matched; hrp is lower-cased and data
// holds the 5-bit values without the checksum.
Bech32Variant Bech32Decode(std::string_view s, std::string* hrp, std::vector<std::uint8_t>* data,
                           const char** reason);

}  // namespace vigil::core::encoding
