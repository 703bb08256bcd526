// hash.h — SHA-256 and HMAC-SHA256 (OpenSSL, through the vigil_openssl
// companion) and lower-case hex, for every part of the core that hashes:
// migration checksums and the audit chain.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::core::hash {

using Digest = std::array<std::uint8_t, 32>;

// Sha256 and HmacSha256 throw Error(kPrerequisite) when the companion is
// missing, Error(kInternal) when OpenSSL fails.
Digest Sha256(std::string_view bytes);
Digest HmacSha256(std::string_view key, std::string_view bytes);

std::string Hex(const Digest& d);
// FromHex reads 64 hexadecimal digits (either case); nullopt otherwise.
std::optional<Digest> FromHex(std::string_view hex);

}  // namespace vigil::core::hash
