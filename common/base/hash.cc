// hash.cc — see hash.h.
#include "base/hash.h"

#include "base/companion.h"
#include "base/error.h"
#include "base/text.h"
#include "companions/api.h"
#include "base/core_guard.h"

namespace vigil::core::hash {
namespace {

const VigilOpensslApi& Openssl() {
  static const VigilOpensslApi& api =
      companion::Require<VigilOpensslApi>("vigil_openssl", VIGIL_OPENSSL_API_ENTRY, VIGIL_OPENSSL_API_VERSION);
  return api;
}

}  // namespace

Digest Sha256(std::string_view bytes) {
  Digest d{};
  if (Openssl().sha256(bytes.data(), bytes.size(), d.data()) != 1) throw Error(ErrorCode::kInternal, "SHA-256 failed");
  return d;
}

Digest HmacSha256(std::string_view key, std::string_view bytes) {
  Digest d{};
  if (Openssl().hmac_sha256(key.data(), key.size(), bytes.data(), bytes.size(), d.data()) != 1)
    throw Error(ErrorCode::kInternal, "HMAC-SHA256 failed");
  return d;
}

std::string RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && Openssl().random_bytes(out.data(), n) != 1)
    throw Error(ErrorCode::kInternal, "OpenSSL's random generator failed");
  return out;
}

bool Equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || Openssl().equal(a.data(), b.data(), a.size()) == 1;
}

std::string Hex(const Digest& d) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (std::uint8_t b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::optional<Digest> FromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Digest d{};
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned char hi = static_cast<unsigned char>(hex[2 * i]), lo = static_cast<unsigned char>(hex[2 * i + 1]);
    if (!text::IsHex(hi) || !text::IsHex(lo)) return std::nullopt;
    d[i] = static_cast<std::uint8_t>(text::HexValue(hi) * 16 + text::HexValue(lo));
  }
  return d;
}

}  // namespace vigil::core::hash
