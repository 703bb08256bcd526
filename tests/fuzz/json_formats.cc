// json_formats.cc — fuzz target: the JSON Schema format checks
// (validate/json_formats.h).
//
// Input: "format\0value". Invariants: a reason is a short NUL-terminated
// text; a draft 2020-12 format name is known; and the formats that contain
// one another agree (a valid uri is a valid uri-reference and iri, a valid
// hostname a valid idn-hostname, a valid email a valid idn-email, a valid
// json-pointer behind "0" a valid relative-json-pointer).
#include <cstring>
#include <string>

#include "fuzz.h"
#include "validate/json_formats.h"

using namespace vigil;

namespace {

bool Valid(std::string_view format, std::string_view s) {
  bool known = false;
  core::Reason r = core::CheckSchemaFormat(format, s, &known);
  if (r != nullptr) fuzz::Check(std::strlen(r) > 0 && std::strlen(r) < 200, "a reason empty or unbounded");
  return r == nullptr;
}

// Implied: when the first format accepts a value, so does the second.
const char* const kImplied[][2] = {
    {"uri", "uri-reference"}, {"uri", "iri"}, {"iri", "iri-reference"}, {"uri-reference", "iri-reference"},
    {"hostname", "idn-hostname"}, {"email", "idn-email"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::vector<std::string_view> parts = fuzz::Split(fuzz::Text(data, size), 2);
  if (parts.size() < 2) return 0;
  std::string_view format = parts[0], value = parts[1];
  fuzz::Expected([&] {
    bool valid = Valid(format, value);
    for (const auto& pair : kImplied)
      if (format == pair[0] && valid) fuzz::Check(Valid(pair[1], value), "a format accepts what a wider one refuses");
    if (format == "json-pointer" && valid)
      fuzz::Check(Valid("relative-json-pointer", "0" + std::string(value)), "json-pointer and relative disagree");
    if (format == "date-time" && valid) fuzz::Check(Valid("date", value.substr(0, 10)), "date-time and date disagree");
  });
  return 0;
}
