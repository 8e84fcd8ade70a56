// Typed reads of a vendor file's JSON fields. Errors name the field and its object, never the
// value: these files hold secrets. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

// The string at object[name]; empty when absent or null. INVALID_ARGUMENT when it has another
// type. `where` names the object in messages ("claudeAiOauth").
absl::StatusOr<std::string> OptionalStringField(const nlohmann::ordered_json& object,
                                                absl::string_view name, absl::string_view where);

// The whole number at object[name] (a float is truncated); 0 when absent or null.
// INVALID_ARGUMENT when it is not a finite non-negative number.
absl::StatusOr<int64_t> OptionalMillisField(const nlohmann::ordered_json& object,
                                            absl::string_view name, absl::string_view where);

// object[name] as an object: null when absent or null (then there is nothing to read),
// INVALID_ARGUMENT when it has another type.
absl::StatusOr<const nlohmann::ordered_json*> OptionalObjectField(
    const nlohmann::ordered_json& object, absl::string_view name, absl::string_view where);

}  // namespace operator_auth
