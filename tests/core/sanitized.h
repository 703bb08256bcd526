// sanitized.h — kSanitized is true in the ASan/UBSan build of the core tests
// (scripts/test's sanitizer stage). A test whose point is size (a default
// budget of ten million steps, megabytes of input) runs a smaller size
// there: the same code paths, at a cost the sanitizer stage can afford;
// the release build runs the full size.
#pragma once

namespace vigil::core::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace vigil::core::testing
