// json_schema_pg.h — the JSON Schema registry as PostgreSQL keeps it.
//
// vigil_state.vigil_json_schemas holds the schemas registered with
// vigil_json_schema_add. The core asks for a URI while it compiles a schema
// (C++ frames), so the look-up goes through spi_guard's GuardedQuery: a
// subtransaction whose errors come back as data, read as vigil's state
// owner under a pinned search_path. The caller must be SPI-connected.
#pragma once

#include "spi_guard.h"
#include "module_pg.h"
#include "validate/json_schema.h"

namespace vigil::pg {

class SchemaRegistry final : public core::JsonSchemaRegistry {
 public:
  explicit SchemaRegistry(Oid state_owner) : owner_(state_owner) {}
  std::optional<std::string> Find(const std::string& uri) override {
    auto rows = GuardedQuery(std::string("SELECT schema::text FROM ") + kStateSchema +
                                 ".vigil_json_schemas WHERE uri OPERATOR(pg_catalog.=) $1",
                             {uri}, owner_);
    if (rows.empty() || !rows[0][0]) return std::nullopt;
    return *rows[0][0];
  }

 private:
  Oid owner_;
};

// RegistrySnapshot is the whole registry, read before the core runs
// (LoadRegistry, engine phase: plain SPI, no subtransaction, so it works
// in a parallel query's leader).
struct RegistrySnapshot {
  int n = 0;
  char** uri = nullptr;
  char** schema = nullptr;
};
void LoadRegistry(RegistrySnapshot* out);  // SPI-connects itself

class SnapshotRegistry final : public core::JsonSchemaRegistry {
 public:
  explicit SnapshotRegistry(const RegistrySnapshot& s) : s_(s) {}
  std::optional<std::string> Find(const std::string& uri) override {
    for (int i = 0; i < s_.n; ++i)
      if (uri == s_.uri[i]) return std::string(s_.schema[i]);
    return std::nullopt;
  }

 private:
  const RegistrySnapshot& s_;
};

}  // namespace vigil::pg
