// json_input.cc — fuzz target: every JSON argument's parser,
// json_in::ParseInput (base/json.h) and ParseTypedRow (rules/row_check.h).
//
// Invariants beyond "no crash": an accepted value is at most kMaxDepth deep
// and serialises again (no invalid UTF-8 slipped through); every recorded
// number spelling is a JSON number Decimal reads; a typed row has one value
// per column.
#include <string>

#include "base/decimal.h"
#include "base/json.h"
#include "fuzz.h"
#include "rules/row_check.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::Text(data, size);
  fuzz::Expected([&] {
    core::json_in::Numbers numbers;
    nlohmann::json value = core::json_in::ParseInput(text, "row", &numbers);
    fuzz::Check(core::json_in::Depth(value) <= core::json_in::kMaxDepth, "ParseInput accepted a value deeper than kMaxDepth");
    std::string again = value.dump();  // throws type_error on invalid UTF-8: a bug here
    fuzz::Check(!again.empty(), "an accepted value serialises to nothing");
    for (const auto& [pointer, spelling] : numbers)
      fuzz::Check(core::Decimal::Parse(spelling).has_value() || spelling.size() > core::Decimal::kMaxText,
                  "ParseInput recorded a number spelling Decimal cannot read");
  });
  fuzz::Expected([&] {
    core::TypedRow row = core::ParseTypedRow(text);
    fuzz::Check(row.columns.size() == row.values.size(), "ParseTypedRow: columns and values differ in number");
    for (const auto& c : row.columns) fuzz::Check(row.Find(c) != nullptr, "ParseTypedRow: a column Find cannot find");
  });
  return 0;
}
