// json_formats.h — JSON Schema `format` checks (interim; see the formats branch).
#pragma once
#include <string_view>
#include "validate/validators.h"
namespace vigil::core {
// CheckSchemaFormat checks string `s` against the JSON Schema format named
// `format`. Sets *known to whether vigil knows the format (unknown formats
// are annotations only: the caller passes them). Returns nullptr when valid
// (or unknown), else a short static reason.
Reason CheckSchemaFormat(std::string_view format, std::string_view s, bool* known);
}  // namespace vigil::core
