// net.h — host and address helpers shared by email, url, ipv4/ipv6/cidr
// (internal).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "validate/validators.h"

struct VigilIdn2Api;  // companions/api.h

namespace vigil::core::net {

// Idn2 returns the vigil_idn2 companion (IDNA 2008 through libidn2), loaded
// on first use, or nullptr when it cannot be loaded.
const VigilIdn2Api* Idn2() noexcept;

// ParseIpv4 parses dotted-decimal "a.b.c.d" (no leading zeros, each 0–255).
Reason ParseIpv4(std::string_view s, std::array<std::uint8_t, 4>* out) noexcept;

// ParseIpv6 parses RFC 4291 text form (with "::" and an embedded IPv4 tail).
Reason ParseIpv6(std::string_view s, std::array<std::uint8_t, 16>* out) noexcept;

// HostnameRules say what a hostname must look like in one context.
struct HostnameRules {
  bool require_dot;      // email: at least two labels
  bool allow_unicode;    // email (RFC 6531): U-labels checked with libidn2
};

// CheckHostname checks LDH labels of 1–63 octets, no leading or trailing
// hyphen, total ≤ 253, no empty label, no trailing dot, and a top-level label
// that is not all digits.
Reason CheckHostname(std::string_view s, HostnameRules rules) noexcept;

}  // namespace vigil::core::net
