// exporter.h — the vigil command's metrics: `vigil exporter --listen
// HOST:PORT` serves /metrics for Prometheus; `vigil metrics` prints the
// same text once (docs/health.md).
#pragma once

#include <string>

namespace vigil::cli {

// RunExporter serves until SIGINT or SIGTERM; returns the exit status.
int RunExporter(const std::string& db, const std::string& module, const std::string& listen);

// MetricsOnce is one scrape's text; *up says whether the database answered.
std::string MetricsOnce(const std::string& db, const std::string& module, bool* up);

}  // namespace vigil::cli
