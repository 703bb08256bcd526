// utility_hooks_pg.cc — vigil's ProcessUtility hook (docs/architecture.md,
// "Hooks chain, in engine code"; docs/audit.md).
//
// Installed by _PG_init when vigil is in shared_preload_libraries. It
// records in the audit log what event triggers cannot see — roles (CREATE,
// ALTER, DROP, GRANT/REVOKE role), databases (CREATE, ALTER, DROP), ALTER
// SYSTEM, and SET/RESET of session_replication_role (which makes triggers,
// the audit's included, skip) — in the database where the command runs,
// while a table there is audited. The entry is written before the command
// runs, in its transaction: a command that fails leaves no entry, and one
// that commits leaves it sealed in order with everything else. No lock is
// taken beyond the log's own insert; the previous hook (or the standard
// function) runs as always.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "access/xact.h"
#include "nodes/parsenodes.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
}

#include <cstring>

namespace {

ProcessUtility_hook_type prev_utility = nullptr;

// Recorded is the command's tag when the hook records it, else NULL.
const char* Recorded(Node* stmt) {
  switch (nodeTag(stmt)) {
    case T_CreateRoleStmt:
    case T_AlterRoleStmt:
    case T_AlterRoleSetStmt:
    case T_DropRoleStmt:
    case T_GrantRoleStmt:
    case T_CreatedbStmt:
    case T_DropdbStmt:
    case T_AlterDatabaseStmt:
    case T_AlterDatabaseSetStmt:
    case T_AlterDatabaseRefreshCollStmt:
    case T_AlterSystemStmt:
      return GetCommandTagName(CreateCommandTag(stmt));
    case T_RenameStmt: {
      ObjectType type = reinterpret_cast<RenameStmt*>(stmt)->renameType;
      return type == OBJECT_ROLE || type == OBJECT_DATABASE ? GetCommandTagName(CreateCommandTag(stmt)) : nullptr;
    }
    case T_VariableSetStmt: {
      const char* name = reinterpret_cast<VariableSetStmt*>(stmt)->name;
      return name != nullptr && strcmp(name, "session_replication_role") == 0
                 ? GetCommandTagName(CreateCommandTag(stmt))
                 : nullptr;
    }
    default:
      return nullptr;
  }
}

void VigilProcessUtility(PlannedStmt* pstmt, const char* query, bool read_only_tree, ProcessUtilityContext context,
                         ParamListInfo params, QueryEnvironment* env, DestReceiver* dest, QueryCompletion* qc) {
  const char* tag = Recorded(pstmt->utilityStmt);
  if (tag != nullptr && IsTransactionState() && query != nullptr) {
    // The statement's own text when the string holds several.
    int start = pstmt->stmt_location > 0 ? pstmt->stmt_location : 0;
    int len = pstmt->stmt_len > 0 ? pstmt->stmt_len : static_cast<int>(strlen(query + start));
    vigil::pg::RecordUtility(tag, pnstrdup(query + start, len));
  }
  if (prev_utility != nullptr)
    prev_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
  else
    standard_ProcessUtility(pstmt, query, read_only_tree, context, params, env, dest, qc);
}

}  // namespace

void vigil::pg::InstallUtilityHook() {
  prev_utility = ProcessUtility_hook;
  ProcessUtility_hook = VigilProcessUtility;
}
