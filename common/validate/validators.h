// validators.h — the validator family (SPEC §1).
//
// Every validator is a pure function from bytes to a verdict. A verdict is
// nullptr when the value is valid, or a static, NUL-terminated reason such as
// "domain label longer than 63 characters". Reasons are string literals so
// the hot path (vigil_is_email over a million rows) allocates nothing.
//
// Inputs are raw bytes: SQLite text may hold invalid UTF-8, and every
// validator rejects it rather than trusting the engine.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::core {

using Reason = const char*;  // nullptr means valid
using CheckFn = Reason (*)(std::string_view);

// KindInfo describes one validator kind; the table is static and plain so
// adapters can walk it without creating C++ objects.
struct KindInfo {
  const char* name;         // "email"
  const char* description;  // one line for vigil_validators()
  const char* example;      // a valid value
  CheckFn check;
};

// Kinds returns the table of every validator kind, in documentation order.
const KindInfo* Kinds(std::size_t* count) noexcept;

// FindKind returns the kind named `name`, or nullptr.
const KindInfo* FindKind(std::string_view name) noexcept;

// Explain validates `value` as `kind` and returns the reason it is invalid
// ("email: local part longer than 64 octets"), or nullopt when it is valid.
// Throws Error(kInvalidParameter) for an unknown kind.
std::optional<std::string> Explain(std::string_view kind,
                                   std::string_view value);

// The individual checks, also reachable through Kinds().
Reason CheckEmail(std::string_view s) noexcept;
Reason CheckUrl(std::string_view s) noexcept;
Reason CheckUuid(std::string_view s) noexcept;
Reason CheckPhoneE164(std::string_view s);
Reason CheckIso8601(std::string_view s) noexcept;
Reason CheckIpv4(std::string_view s) noexcept;
Reason CheckIpv6(std::string_view s) noexcept;
Reason CheckCidr(std::string_view s) noexcept;
Reason CheckIban(std::string_view s) noexcept;
Reason CheckLuhn(std::string_view s) noexcept;
Reason CheckJson(std::string_view s);
Reason CheckCryptoSymbol(std::string_view s) noexcept;
Reason CheckBtcAddress(std::string_view s) noexcept;
Reason CheckEthAddress(std::string_view s) noexcept;
Reason CheckUsername(std::string_view s) noexcept;
Reason CheckSemver(std::string_view s) noexcept;

// UuidVersion returns the version nibble (0 for Nil, 15 for Max).
// Throws Error(kInvalidText) when `s` is not a UUID.
int UuidVersion(std::string_view s);

// CheckPhoneInRegion accepts national or formatted input for `region`
// (ISO 3166-1 alpha-2, case-insensitive). Throws Error(kInvalidParameter) for
// a region libphonenumber does not know.
Reason CheckPhoneInRegion(std::string_view s, std::string_view region);

// IbanNormalize turns the print format ("DE89 3704 0044 0532 0130 00") into
// the electronic format: spaces removed, letters upper-cased. It does not
// validate; call CheckIban on the result.
std::string IbanNormalize(std::string_view s);

// JsonSchemaValid validates the JSON document `doc` against `schema`
// (JSON Schema draft 2020-12 subset; see docs/validation.md). Returns nullopt
// when valid, else the first failure ("/items/0: expected type string").
// Throws Error(kInvalidParameter) for a malformed schema and
// Error(kInvalidText) when either argument is not JSON.
std::optional<std::string> JsonSchemaCheck(std::string_view schema,
                                           std::string_view doc);

}  // namespace vigil::core
