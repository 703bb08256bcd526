// version.h — the release both modules report through vigil_version().
//
// The one version source is the top-level VERSION file: Meson reads it as
// the project version and the PGXS Makefile reads it too; both pass it as
// -DVIGIL_VERSION, and both generate vigil.control from it. Nothing else
// spells the version (tests/lint.sh checks; docs/releasing.md).
#pragma once

#ifndef VIGIL_VERSION
#error "VIGIL_VERSION must come from the build (the top-level VERSION file)"
#endif
