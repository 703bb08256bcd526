// json_schema_pg.h — the JSON Schema registry as PostgreSQL keeps it.
//
// vigil_state.vigil_json_schemas holds the schemas registered with
// vigil_json_schema_add. The core asks for URIs while it compiles a schema
// (C++ frames, where PostgreSQL may not raise), so every caller reads the
// registry whole first, in the engine phase (LoadRegistry), and hands the
// core a snapshot: one way for the functions, rule plans, rule changes and
// quality scans alike.
#pragma once

#include "module_pg.h"
#include "validate/json_schema.h"

namespace vigil::pg {

// RegistrySnapshot is the whole registry, read before the core runs
// (LoadRegistry, engine phase: plain SPI, no subtransaction, so it works
// in a parallel query's leader).
struct RegistrySnapshot {
  int n = 0;
  char** uri = nullptr;
  char** schema = nullptr;
};
void LoadRegistry(RegistrySnapshot* out);  // SPI-connects itself

// LoadRegistry reads it as vigil's state owner with plain SPI (no
// subtransaction: it works in a parallel query's leader). A database
// without the table (before ALTER EXTENSION vigil UPDATE to 0.7.0, or the
// pre-0.4.0 layout) has nothing registered.

// SnapshotRegistry answers from a snapshot; `uri`/`text`, when given, stand
// in for what is registered under that URI (a change being checked).
class SnapshotRegistry final : public core::JsonSchemaRegistry {
 public:
  explicit SnapshotRegistry(const RegistrySnapshot& s, const std::string* uri = nullptr,
                            const std::string* text = nullptr)
      : s_(s), uri_(uri), text_(text) {}
  std::optional<std::string> Find(const std::string& uri) override {
    if (uri_ != nullptr && uri == *uri_) {
      if (text_ == nullptr) return std::nullopt;
      return *text_;
    }
    for (int i = 0; i < s_.n; ++i)
      if (uri == s_.uri[i]) return std::string(s_.schema[i]);
    return std::nullopt;
  }

 private:
  const RegistrySnapshot& s_;
  const std::string* uri_;
  const std::string* text_;
};

}  // namespace vigil::pg
