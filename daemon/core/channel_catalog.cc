#include "daemon/core/channel_catalog.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace operator_auth {

const ChannelField* ChannelDefinition::FindField(absl::string_view field) const {
  for (const ChannelField& f : fields) {
    if (f.name == field) return &f;
  }
  return nullptr;
}

bool IsPlausibleChannelName(absl::string_view name) {
  // Channel and field names are short lowercase words; tokens (xoxb-..., 123:ABC...) are not.
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

const std::vector<ChannelDefinition>& ChannelCatalog() {
  static const auto* const catalog = new std::vector<ChannelDefinition>{
      {"telegram", "Telegram", {{"bot_token", "TELEGRAM_BOT_TOKEN"}}},
      {"discord", "Discord", {{"bot_token", "DISCORD_BOT_TOKEN"}}},
      {"slack", "Slack", {{"bot_token", "SLACK_BOT_TOKEN"}, {"app_token", "SLACK_APP_TOKEN"}}},
      {"twitch", "Twitch", {{"token", "TWITCH_TOKEN"}}},
      {"email",
       "Email",
       {{"username", "EMAIL_USERNAME", /*secret=*/false}, {"password", "EMAIL_PASSWORD"}}},
  };
  return *catalog;
}

absl::StatusOr<const ChannelDefinition*> FindChannel(absl::string_view name) {
  for (const ChannelDefinition& channel : ChannelCatalog()) {
    if (channel.name == name) return &channel;
  }
  std::vector<absl::string_view> known;
  for (const ChannelDefinition& channel : ChannelCatalog()) known.push_back(channel.name);
  if (!IsPlausibleChannelName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("channel name must be one of ",
                                                   absl::StrJoin(known, ", "),
                                                   name.empty() ? " (it is empty)" : ""));
  }
  return absl::NotFoundError(
      absl::StrCat("unknown channel \"", name, "\" (known: ", absl::StrJoin(known, ", "), ")"));
}

}  // namespace operator_auth
