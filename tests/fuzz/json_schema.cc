// json_schema.cc — fuzz target: JSON Schema compilation and validation
// (validate/json_schema.cc), the core of vigil_json_schema_valid and
// vigil_json_schema_check; and CheckJson, the json validator.
//
// Input: the schema, a NUL byte, the document, a NUL byte, a registered
// schema ("{\"$ref\":\"urn:r\"}\0\"x\"\0{\"type\":\"string\"}"). Without a
// NUL the whole input is all three. The third part is registered as urn:r
// and as https://example.com/r.json. Invariants: the first error of the
// short-circuiting evaluation and the basic output agree on validity, a
// failing document names at least one error, and the basic output is JSON.
#include <map>
#include <nlohmann/json.hpp>

#include "fuzz.h"
#include "validate/json_schema.h"
#include "validate/validators.h"

using namespace vigil;

namespace {

class Registry : public core::JsonSchemaRegistry {
 public:
  std::map<std::string, std::string> schemas;
  std::optional<std::string> Find(const std::string& uri) override {
    auto it = schemas.find(uri);
    if (it == schemas.end()) return std::nullopt;
    return it->second;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::Text(data, size);
  auto parts = fuzz::Split(text, 3);
  std::string_view schema = parts[0], doc = parts.size() > 1 ? parts[1] : parts[0];
  std::string_view registered = parts.size() > 2 ? parts[2] : parts[0];
  fuzz::Expected([&] { (void)core::JsonSchemaCheck(schema, doc); });
  fuzz::Expected([&] {
    Registry r;
    r.schemas["urn:r"] = std::string(registered);
    r.schemas["https://example.com/r.json"] = std::string(registered);
    core::JsonSchemaOptions options;
    options.registry = true;
    options.max_steps = 200000;  // a fuzz input may fan out; the bound is the point
    auto compiled = core::CompileJsonSchema(schema, options, &r);
    bool first = core::ValidateJson(*compiled, doc, nullptr);
    std::vector<core::JsonSchemaError> errors;
    bool all = core::ValidateJson(*compiled, doc, &errors, true);
    if (first != all) __builtin_trap();
    if (!all && errors.empty()) __builtin_trap();
    if (!nlohmann::json::accept(core::JsonSchemaOutput(all, errors))) __builtin_trap();
  });
  fuzz::Expected([&] { (void)core::CheckJson(text); });
  return 0;
}
