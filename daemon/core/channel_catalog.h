// The chat channels whose bot credentials channels.json holds, and each one's fields with the
// environment variable that backs it:
//   telegram{bot_token}  discord{bot_token}  slack{bot_token, app_token}  twitch{token}
//   email{username, password}
// Static data; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace operator_auth {

struct ChannelField {
  absl::string_view name;     // as written in channels.json, e.g. "bot_token"
  absl::string_view env_var;  // e.g. "TELEGRAM_BOT_TOKEN"
  bool secret = true;         // false only for values safe to show, like an email username
};

struct ChannelDefinition {
  absl::string_view name;  // the section in channels.json, e.g. "slack"
  absl::string_view display_name;
  std::vector<ChannelField> fields;

  const ChannelField* FindField(absl::string_view field) const;
};

// True when `name` looks like a channel or field name (1-32 of [a-z_]), so that it is safe to
// quote in an error message: a token pasted in its place (digits, dashes, colons) does not.
bool IsPlausibleChannelName(absl::string_view name);

// Every known channel, in the order channels.json lists them.
const std::vector<ChannelDefinition>& ChannelCatalog();

// The channel called `name`. NOT_FOUND naming the known channels when there is none;
// INVALID_ARGUMENT (without echoing it) when `name` is not even a plausible name.
absl::StatusOr<const ChannelDefinition*> FindChannel(absl::string_view name);

}  // namespace operator_auth
