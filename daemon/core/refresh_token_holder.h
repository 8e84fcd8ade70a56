// Where a refresh token is stored now. An account can move (`auth default`) while its token is
// being refreshed, and the rotated token belongs wherever the refresh token that was spent is:
// written anywhere else, that account would keep a spent refresh token. RefreshCoordinator asks
// this when it writes a refresh's answer, FleetStorage when it replays one from its journal.
// Pure.
#pragma once

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "daemon/core/credential.h"
#include "daemon/core/secret_string.h"

namespace operator_auth {

// The credential key ("PROVIDER" or "PROVIDER@ACCOUNT") of `provider`'s OAuth credential whose
// refresh token is `refresh`; empty when none holds it.
std::string KeyHoldingRefreshToken(const std::map<std::string, Credential>& credentials,
                                   absl::string_view provider, const SecretString& refresh);

}  // namespace operator_auth
