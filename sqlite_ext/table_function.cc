// table_function.cc — the virtual-table implementation behind every
// table-valued function (see table_function.h).
#include "table_function.h"

#include <cstring>
#include <memory>
#include <new>

#include "boundary.h"

namespace vigil::sqlite {
namespace {

struct Aux {
  const TableSpec* spec;
  const core::FunctionInfo* info;
};

struct Vtab {
  sqlite3_vtab base;
  sqlite3* db;
  const Aux* aux;
  int visible;    // result columns; the arguments' hidden columns follow
  int arguments;
};

int CountNames(const char* list) {
  if (list == nullptr || *list == '\0') return 0;
  int n = 1;
  for (const char* p = list; *p; ++p) n += *p == ',';
  return n;
}

struct Cursor {
  sqlite3_vtab_cursor base;
  std::vector<Row>* rows;
  std::size_t i;
};

int Connect(sqlite3* db, void* p, int, const char* const*, sqlite3_vtab** out, char**) {
  const Aux* aux = static_cast<const Aux*>(p);
  std::string ddl = std::string("CREATE TABLE x(") + aux->spec->columns;
  if (const char* a = aux->spec->arguments) {
    // "options" -> ", options HIDDEN"
    std::string name;
    for (const char* p = a;; ++p) {
      if (*p == ',' || *p == '\0') {
        ddl += ", " + name + " HIDDEN";
        name.clear();
        if (*p == '\0') break;
      } else if (*p != ' ') {
        name += *p;
      }
    }
  }
  ddl += ")";
  int rc = sqlite3_declare_vtab(db, ddl.c_str());
  if (rc != SQLITE_OK) return rc;
  unsigned flags = core::SqliteFlagsOf(*aux->info, 0);
  rc = sqlite3_vtab_config(db, (flags & core::kDirectOnly) ? SQLITE_VTAB_DIRECTONLY : SQLITE_VTAB_INNOCUOUS);
  if (rc != SQLITE_OK) return rc;
  auto* v = static_cast<Vtab*>(sqlite3_malloc(sizeof(Vtab)));
  if (v == nullptr) return SQLITE_NOMEM;
  std::memset(v, 0, sizeof(*v));
  v->db = db;
  v->aux = aux;
  v->visible = CountNames(aux->spec->columns);
  v->arguments = CountNames(aux->spec->arguments);
  *out = &v->base;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* v) {
  sqlite3_free(v);
  return SQLITE_OK;
}

// BestIndex hands each argument (an equality on a hidden column) to
// Filter in the arguments' order; idxNum says which were given.
int BestIndex(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  auto* v = reinterpret_cast<Vtab*>(vtab);
  int given = 0;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    int arg = c.iColumn - v->visible;
    if (arg < 0 || arg >= v->arguments) continue;
    if (!c.usable || c.op != SQLITE_INDEX_CONSTRAINT_EQ) return SQLITE_CONSTRAINT;
    given |= 1 << arg;
  }
  int n = 0;
  for (int arg = 0; arg < v->arguments; ++arg) {
    if (!(given & (1 << arg))) continue;
    ++n;
    for (int i = 0; i < info->nConstraint; ++i) {
      const auto& c = info->aConstraint[i];
      if (c.usable && c.op == SQLITE_INDEX_CONSTRAINT_EQ && c.iColumn - v->visible == arg) {
        info->aConstraintUsage[i].argvIndex = n;
        info->aConstraintUsage[i].omit = 1;
        break;
      }
    }
  }
  info->idxNum = given;
  info->estimatedCost = 1000;
  info->estimatedRows = 100;
  return SQLITE_OK;
}

int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* c = static_cast<Cursor*>(sqlite3_malloc(sizeof(Cursor)));
  if (c == nullptr) return SQLITE_NOMEM;
  std::memset(c, 0, sizeof(*c));
  *out = &c->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* cur) {
  auto* c = reinterpret_cast<Cursor*>(cur);
  delete c->rows;
  sqlite3_free(c);
  return SQLITE_OK;
}

int Filter(sqlite3_vtab_cursor* cur, int given, const char*, int argc, sqlite3_value** argv) {
  auto* c = reinterpret_cast<Cursor*>(cur);
  auto* v = reinterpret_cast<Vtab*>(cur->pVtab);
  delete c->rows;
  c->rows = nullptr;
  c->i = 0;
  return RunVtab(cur->pVtab, [&] {
    const TableSpec* spec = v->aux->spec;
    if (spec->rows_with_args == nullptr) {
      c->rows = std::make_unique<std::vector<Row>>(spec->rows(v->db)).release();
      return;
    }
    Args args(static_cast<std::size_t>(v->arguments));
    int next = 0;
    for (int arg = 0; arg < v->arguments; ++arg) {
      if (!(given & (1 << arg)) || next >= argc) continue;
      sqlite3_value* value = argv[next++];
      if (sqlite3_value_type(value) == SQLITE_NULL) continue;
      const unsigned char* text = sqlite3_value_text(value);
      if (text == nullptr) throw std::bad_alloc();
      args[arg] = std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(sqlite3_value_bytes(value)));
    }
    c->rows = std::make_unique<std::vector<Row>>(spec->rows_with_args(v->db, args)).release();
  });
}

int Next(sqlite3_vtab_cursor* cur) {
  reinterpret_cast<Cursor*>(cur)->i++;
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* cur) {
  auto* c = reinterpret_cast<Cursor*>(cur);
  return c->rows == nullptr || c->i >= c->rows->size();
}

int Column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
  auto* c = reinterpret_cast<Cursor*>(cur);
  const Row& row = (*c->rows)[c->i];
  if (col < 0 || static_cast<std::size_t>(col) >= row.size()) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  const Value& v = row[col];
  switch (v.kind) {
    case Value::kNull: sqlite3_result_null(ctx); break;
    case Value::kInteger: sqlite3_result_int64(ctx, v.integer); break;
    case Value::kReal: sqlite3_result_double(ctx, v.real); break;
    case Value::kText: sqlite3_result_text64(ctx, v.text.data(), v.text.size(), SQLITE_TRANSIENT, SQLITE_UTF8); break;
  }
  return SQLITE_OK;
}

int RowId(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<Cursor*>(cur)->i) + 1;
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m;
  std::memset(&m, 0, sizeof(m));
  m.xCreate = nullptr;  // eponymous-only: SELECT * FROM vigil_rules()
  m.xConnect = Connect;
  m.xBestIndex = BestIndex;
  m.xDisconnect = Disconnect;
  m.xDestroy = Disconnect;
  m.xOpen = Open;
  m.xClose = Close;
  m.xFilter = Filter;
  m.xNext = Next;
  m.xEof = Eof;
  m.xColumn = Column;
  m.xRowid = RowId;
  return m;
}

const sqlite3_module kModule = MakeModule();

}  // namespace

int RegisterTableFunction(sqlite3* db, const TableSpec* spec, const core::FunctionInfo* info) {
  auto* aux = new (std::nothrow) Aux{spec, info};
  if (aux == nullptr) return SQLITE_NOMEM;
  return sqlite3_create_module_v2(db, spec->name, &kModule, aux, [](void* p) { delete static_cast<Aux*>(p); });
}

}  // namespace vigil::sqlite
