// The `operatorctl channels ...` subcommands: chat-channel bot credentials through the daemon's
// ChannelService. Each prints on stdout (text, or JSON with --json) and returns the process exit
// code (cli/exit_status.h). Secret values are shown only by `show --reveal`. Thread-compatible.
#pragma once

#include <map>
#include <string>

#include "cli/auth_commands.h"
#include "operator_auth/auth_client.h"

namespace operator_auth::cli {

// The value flags `channels set` takes, as flag -> field: --bot-token -> bot_token, ...
// Which fields a channel has is the daemon's to say; it refuses a field the channel lacks.
const std::map<std::string, std::string>& ChannelFieldFlags();

class ChannelCommands {
 public:
  explicit ChannelCommands(const GlobalOptions& options);

  // Every channel with each field's source. Exit 0.
  int List();
  // One channel; values masked unless `reveal`. Exit 0 when every field is configured, else 1.
  int Show(const std::string& channel, bool reveal);
  // Sets the given fields (field -> value, where "-" reads the value from stdin). Exit 0.
  int Set(const std::string& channel, const std::map<std::string, std::string>& fields);
  // Empties the channel's fields in channels.json. Exit 0 whether or not it held any.
  int Unset(const std::string& channel);

 private:
  int Failed(const absl::Status& status) const;

  GlobalOptions options_;
  AuthClient client_;
};

}  // namespace operator_auth::cli
