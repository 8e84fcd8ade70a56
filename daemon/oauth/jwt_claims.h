// Reads the claims of a JWT without verifying it: used only to learn facts the provider put in
// its own token (OpenAI's chatgpt_account_id, an expiry), never to decide whom to trust.
// Errors never quote the token. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

// The decoded payload (second segment) of `jwt` as a JSON object.
absl::StatusOr<nlohmann::json> DecodeJwtClaims(absl::string_view jwt);

}  // namespace operator_auth
