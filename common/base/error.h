// error.h — the one error type the core raises.
//
// Validators answer with values (valid, or a reason). Errors about the call
// itself — an unknown kind, a malformed schema, an unknown region — are thrown
// as vigil::core::Error, which carries a stable code. Each engine adapter maps
// the code to its own form exactly once (SQLSTATE in PostgreSQL, an error
// message prefixed "vigil: " in SQLite); see docs/architecture.md.
#pragma once

#include <stdexcept>
#include <string>

namespace vigil::core {

// ErrorCode lists every kind of failure the core reports. The adapters keep
// one table each that maps these to engine error codes.
enum class ErrorCode {
  kInvalidParameter,  // 22023 invalid_parameter_value
  kInvalidText,       // 22P02 invalid_text_representation
  kProgramLimit,      // 54000 program_limit_exceeded
  kNotSupported,      // 0A000 feature_not_supported
  kInternal,          // XX000 internal_error
  kNullValue,         // 22004 null_value_not_allowed
  kUndefinedTable,    // 42P01 undefined_table
  kUndefinedColumn,   // 42703 undefined_column
  kCheckViolation,    // 23514 check_violation (a rule rejected the row)
  kEngine,            // an error the database engine itself reported
  kPrerequisite,      // 55000 object_not_in_prerequisite_state
  kUndefinedFile,     // 58P01 undefined_file
  kLockTimeout,       // 55P03 lock_not_available
  kCanceled,          // 57014 query_canceled: the engine asked to stop (cancel.h)
  kPrivilege,         // 42501 insufficient_privilege
  kWrongObjectType,   // 42809 wrong_object_type
  kDependentObjects,  // 2BP01 dependent_objects_still_exist
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, std::string detail = {},
        std::string hint = {})
      : std::runtime_error(std::move(message)),
        code_(code),
        detail_(std::move(detail)),
        hint_(std::move(hint)) {}

  ErrorCode code() const noexcept { return code_; }
  // engine_code carries an error code the engine itself reported (a
  // PostgreSQL SQLSTATE packed with MAKE_SQLSTATE), so re-raising keeps it.
  int engine_code() const noexcept { return engine_code_; }
  Error& WithEngineCode(int code) noexcept {
    engine_code_ = code;
    return *this;
  }
  const std::string& detail() const noexcept { return detail_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  ErrorCode code_;
  int engine_code_ = 0;
  std::string detail_;
  std::string hint_;
};

}  // namespace vigil::core
