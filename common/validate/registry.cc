// registry.cc — the table of validator kinds and vigil_validate's core.
//
// This table is the single source of the kinds: vigil_validators() in both
// engines, vigil_validate(kind, value) and the documentation tests all read
// it, so a kind cannot exist in one place and be missing in another.
#include <cstring>
#include <string>

#include "base/text.h"
#include "base/error.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

constexpr KindInfo kKinds[] = {
    {"email", "RFC 5321 mailbox with RFC 6531 UTF-8; no comments or display names", "trader@example.com", CheckEmail},
    {"url", "absolute http, https or ftp URL (RFC 3986) with a host", "https://api.example.com/v1/markets?symbol=BTC-USD", CheckUrl},
    {"uuid", "RFC 9562 8-4-4-4-12 hexadecimal text form", "0f8fad5b-d9cb-469f-a165-70867728950e", CheckUuid},
    {"phone", "canonical E.164 number valid for its country (libphonenumber)", "+14155552671", CheckPhoneE164},
    {"iso8601", "ISO 8601 calendar date, time or date-time with optional zone", "2024-02-29T13:45:00Z", CheckIso8601},
    {"ipv4", "dotted-decimal IPv4 address without leading zeros", "192.0.2.10", CheckIpv4},
    {"ipv6", "RFC 4291 IPv6 address text, without zone", "2001:db8::8a2e:370:7334", CheckIpv6},
    {"cidr", "IPv4 or IPv6 network in CIDR notation, host bits zero", "10.0.0.0/8", CheckCidr},
    {"iban", "ISO 13616 IBAN in electronic format, registry structure and mod-97", "DE89370400440532013000", CheckIban},
    {"luhn", "digits with a valid Luhn mod 10 check digit", "4111111111111111", CheckLuhn},
    {"json", "RFC 8259 JSON text", "{\"side\":\"buy\",\"qty\":0.5}", CheckJson},
    {"crypto_symbol", "trading symbol such as BTC, BTC-USD, BTC/USDT or BTCUSDT", "BTC-USD", CheckCryptoSymbol},
    {"btc_address", "Bitcoin base58check or bech32/bech32m address, mainnet or testnet", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", CheckBtcAddress},
    {"eth_address", "0x + 40 hex digits; mixed case must pass EIP-55", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", CheckEthAddress},
    {"username", "3-32 letters, digits, '.', '_' or '-', no leading, trailing or doubled separator", "satoshi_n", CheckUsername},
    {"semver", "Semantic Versioning 2.0.0", "1.4.0-rc.1+build.7", CheckSemver},
};

constexpr std::size_t kKindCount = sizeof(kKinds) / sizeof(kKinds[0]);

}  // namespace

const KindInfo* Kinds(std::size_t* count) noexcept {
  *count = kKindCount;
  return kKinds;
}

const KindInfo* FindKind(std::string_view name) noexcept {
  for (const KindInfo& k : kKinds)
    if (name == k.name) return &k;
  return nullptr;
}

std::optional<std::string> Explain(std::string_view kind, std::string_view value) {
  const KindInfo* info = FindKind(kind);
  if (info == nullptr) {
    std::string shown = text::Printable(kind, 64);
    throw Error(ErrorCode::kInvalidParameter, "unknown validator kind \"" + shown + "\"", {},
                "SELECT kind FROM vigil_validators() lists the kinds.");
  }
  Reason r = info->check(value);
  if (r == nullptr) return std::nullopt;
  return std::string(info->name) + ": " + r;
}

}  // namespace vigil::core
