// json_schema.cc — fuzz target: JSON Schema validation, JsonSchemaCheck
// (validate/json_schema.cc), the core of vigil_json_schema_valid; and
// CheckJson, the json validator.
//
// Input: the schema, a NUL byte, the document ("{\"type\":\"string\"}\0\"x\"").
// Without a NUL the whole input is both.
#include "fuzz.h"
#include "validate/validators.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::Text(data, size);
  auto parts = fuzz::Split(text, 2);
  std::string_view schema = parts[0], doc = parts.size() > 1 ? parts[1] : parts[0];
  fuzz::Expected([&] { (void)core::JsonSchemaCheck(schema, doc); });
  fuzz::Expected([&] { (void)core::CheckJson(text); });
  return 0;
}
