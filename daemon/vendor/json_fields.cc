#include "daemon/vendor/json_fields.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace operator_auth {
namespace {

absl::Status WrongType(absl::string_view name, absl::string_view where, absl::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat("field \"", name, "\" of ", where, " is not ", want));
}

}  // namespace

absl::StatusOr<std::string> OptionalStringField(const nlohmann::ordered_json& object,
                                                absl::string_view name, absl::string_view where) {
  auto it = object.find(std::string(name));
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return WrongType(name, where, "a string");
  return it->get<std::string>();
}

absl::StatusOr<int64_t> OptionalMillisField(const nlohmann::ordered_json& object,
                                            absl::string_view name, absl::string_view where) {
  auto it = object.find(std::string(name));
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_unsigned() || it->is_number_integer()) {
    int64_t v = it->get<int64_t>();
    if (v >= 0) return v;
  } else if (it->is_number_float()) {
    double v = it->get<double>();
    if (std::isfinite(v) && v >= 0 && v < 9.2e18) return static_cast<int64_t>(v);
  }
  return WrongType(name, where, "a non-negative number of milliseconds");
}

absl::StatusOr<const nlohmann::ordered_json*> OptionalObjectField(
    const nlohmann::ordered_json& object, absl::string_view name, absl::string_view where) {
  auto it = object.find(std::string(name));
  if (it == object.end() || it->is_null()) return nullptr;
  if (!it->is_object()) return WrongType(name, where, "an object");
  return &*it;
}

}  // namespace operator_auth
