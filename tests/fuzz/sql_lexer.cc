// sql_lexer.cc — fuzz target: the SQL lexer, sql::SplitStatements
// (sql/lexer.h), on every input in both dialects.
//
// Invariants: statements lie inside the script, in order, and their lines
// never go back.
#include "fuzz.h"
#include "sql/lexer.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view script = fuzz::Text(data, size);
  for (core::Dialect d : {core::Dialect::kPostgres, core::Dialect::kSqlite}) {
    fuzz::Expected([&] {
      std::size_t begin = 0, line = 1;
      for (const auto& s : core::sql::SplitStatements(script, d)) {
        fuzz::Check(s.begin <= s.end && s.end <= script.size(), "a statement outside the script");
        fuzz::Check(s.begin >= begin, "statements out of order");
        fuzz::Check(s.line >= line, "a statement's line goes back");
        begin = s.end;
        line = s.line;
      }
    });
  }
  return 0;
}
