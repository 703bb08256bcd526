// module_pg.h — what module_pg.cc offers the other PostgreSQL files.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/primnodes.h"
}

namespace vigil::pg {

// QualityAlertScore is the GUC vigil.quality_alert_score.
int QualityAlertScore() noexcept;

// PrivilegeBeforeLock is a RangeVarGetRelidExtended callback: the caller
// must hold one of the privileges in *(AclMode*)mask on the table before
// vigil locks it, as PostgreSQL's own commands check (else a role could
// hold a lock on a table it cannot use and block its owner's ALTER TABLE).
// Raises 42501 (engine code, phase 1).
void PrivilegeBeforeLock(const RangeVar* rv, Oid relid, Oid old_relid, void* mask);

}  // namespace vigil::pg
