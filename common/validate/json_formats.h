// json_formats.h — the JSON Schema draft 2020-12 `format` vocabulary
// (assertion mode), plus vigil's own "vigil:<kind>" formats.
#pragma once

#include <string_view>

#include "validate/validators.h"  // Reason = const char*, nullptr means valid

namespace vigil::core {

// CheckSchemaFormat checks string `s` against the JSON Schema format named
// `format`. Sets *known to whether vigil knows the format (unknown formats are
// annotations only: the caller passes them). Returns nullptr when valid (or unknown),
// else a short static reason ("expected an RFC 3339 date-time").
Reason CheckSchemaFormat(std::string_view format, std::string_view s, bool* known);

}  // namespace vigil::core
