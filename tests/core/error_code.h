// error_code.h — the code of the core::Error a body throws, for the core
// tests: kInternal when it throws none (no test expects kInternal).
#pragma once

#include "base/error.h"

namespace vigil::core::testing {

template <typename Body>
ErrorCode CodeOf(Body&& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kInternal;
}

}  // namespace vigil::core::testing
