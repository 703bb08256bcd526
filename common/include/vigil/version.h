// version.h — the release both modules report through vigil_version().
#pragma once

#define VIGIL_VERSION "0.1.0"
