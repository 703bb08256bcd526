// hash.h — SHA-256, HMAC-SHA256, random bytes and constant-time comparison
// (OpenSSL, through the vigil_openssl companion) and lower-case hex, for
// every part of the core that hashes: migration checksums, the audit chain,
// passwords and API keys.
#pragma once

#include <array>
#include <cstddef>
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

// RandomBytes returns n bytes of OpenSSL's CSPRNG; Error(kInternal) when
// it fails (never a weaker source).
std::string RandomBytes(std::size_t n);
// Equal compares in time that depends only on the length.
bool Equal(std::string_view a, std::string_view b);

std::string Hex(const Digest& d);
// FromHex reads 64 hexadecimal digits (either case); nullopt otherwise.
std::optional<Digest> FromHex(std::string_view hex);

}  // namespace vigil::core::hash
