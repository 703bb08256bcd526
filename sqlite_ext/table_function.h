// table_function.h — one virtual-table implementation for every vigil
// table-valued function (vigil_validators, vigil_rules,
// vigil_migration_status, vigil_functions, and those to come).
//
// A table-valued function is a column list and a function that computes
// its rows; the rows are materialized when a query opens the table
// (xFilter) and handed out from memory. Errors become the table's error
// through RunVtab. The flags (SQLITE_VTAB_INNOCUOUS or _DIRECTONLY) come
// from the function table (vigil/surface), like every other registration.
#pragma once

#include <sqlite3ext.h>

#include <optional>
#include <string>
#include <vector>

#include "surface/functions.h"

namespace vigil::sqlite {

struct Value {
  enum Kind { kNull, kInteger, kReal, kText } kind = kNull;
  sqlite3_int64 integer = 0;
  double real = 0;
  std::string text;

  static Value Null() { return {}; }
  static Value Integer(sqlite3_int64 v) { Value x; x.kind = kInteger; x.integer = v; return x; }
  static Value Real(double v) { Value x; x.kind = kReal; x.real = v; return x; }
  static Value Text(std::string v) { Value x; x.kind = kText; x.text = std::move(v); return x; }
  // An empty string is SQL NULL (status rows use "" for "not known").
  static Value TextOrNull(const std::string& v) { return v.empty() ? Null() : Text(v); }
};
using Row = std::vector<Value>;

// A table-valued function with arguments declares them as hidden columns
// ("options"): vigil_quality_issues('{...}') passes its arguments to
// `rows_with_args` in order (nullopt for one left out or NULL).
using Args = std::vector<std::optional<std::string>>;
struct TableSpec {
  const char* name;
  const char* columns;                  // "kind TEXT, description TEXT, example TEXT"
  std::vector<Row> (*rows)(sqlite3* db);  // may throw core::Error
  const char* arguments = nullptr;      // hidden columns, comma-separated: "options"
  std::vector<Row> (*rows_with_args)(sqlite3* db, const Args& args) = nullptr;
};

// RegisterTableFunction registers `spec` as an eponymous-only virtual table
// with the flags `info` derives. Returns an SQLite result code.
int RegisterTableFunction(sqlite3* db, const TableSpec* spec, const core::FunctionInfo* info);

}  // namespace vigil::sqlite
