// The one place absl::Status becomes grpc::Status. The codes are the same canonical set, so this
// keeps code and message; core messages never carry secrets, so they pass through as they are.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace operator_auth {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace operator_auth
