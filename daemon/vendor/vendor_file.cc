#include "daemon/vendor/vendor_file.h"

#include "absl/strings/str_cat.h"
#include "daemon/core/atomic_file.h"
#include "daemon/core/json_object_text.h"
#include "daemon/core/secret_string.h"

namespace operator_auth {

absl::StatusOr<std::optional<nlohmann::ordered_json>> ReadVendorFile(
    const std::string& path, const TrustBoundary& boundary) {
  absl::StatusOr<std::string> text = ReadTrustedFile(path, kMaxVendorFileBytes, boundary);
  if (absl::IsNotFound(text.status())) return std::nullopt;
  if (!text.ok()) return text.status();
  absl::StatusOr<nlohmann::ordered_json> root = ParseJsonObjectText(*text);
  CleanseString(*text);
  if (!root.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", root.status().message()));
  }
  return *std::move(root);
}

absl::Status WriteVendorFile(const std::string& path, const nlohmann::ordered_json& contents) {
  std::string text = PrintJsonText(contents);
  absl::Status written = WriteFileAtomically(path, text);
  CleanseString(text);
  return written;
}

}  // namespace operator_auth
