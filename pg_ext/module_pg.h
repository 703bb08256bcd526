// module_pg.h — what module_pg.cc offers the other PostgreSQL files.
#pragma once

namespace vigil::pg {

// QualityAlertScore is the GUC vigil.quality_alert_score.
int QualityAlertScore() noexcept;

}  // namespace vigil::pg
