#include "cli/channel_commands.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "cli/exit_status.h"
#include "cli/output.h"
#include "cli/secret_prompt.h"

namespace operator_auth::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr absl::string_view kMasked = "********";

const char* SourceName(v1::ChannelValueSource source) {
  switch (source) {
    case v1::CHANNEL_VALUE_SOURCE_FILE:
      return "channels.json";
    case v1::CHANNEL_VALUE_SOURCE_ENV:
      return "env";
    default:
      return "none";
  }
}

// "configured (channels.json)", "configured (env TELEGRAM_BOT_TOKEN)", "not configured".
std::string FieldSummary(const v1::ChannelField& field) {
  switch (field.source()) {
    case v1::CHANNEL_VALUE_SOURCE_FILE:
      return "configured (channels.json)";
    case v1::CHANNEL_VALUE_SOURCE_ENV:
      return absl::StrCat("configured (env ", field.env_var(), ")");
    default:
      return absl::StrCat("not configured (env ", field.env_var(), " unset)");
  }
}

std::string ChannelSummary(const v1::ChannelInfo& channel) {
  int configured = 0;
  for (const v1::ChannelField& f : channel.fields()) configured += f.configured() ? 1 : 0;
  if (channel.configured()) return "configured";
  if (configured == 0) return "not configured";
  return absl::StrCat("partly configured (", configured, " of ", channel.fields_size(), " fields)");
}

bool ShowValue(const v1::ChannelField& field, bool reveal) {
  return field.configured() && (reveal || !field.secret());
}

Json ChannelToJson(const v1::ChannelInfo& channel, bool with_values, bool reveal) {
  Json out = Json::object();
  out["name"] = channel.name();
  out["display_name"] = channel.display_name();
  out["configured"] = channel.configured();
  Json fields = Json::array();
  for (const v1::ChannelField& f : channel.fields()) {
    Json field = Json::object();
    field["name"] = f.name();
    field["configured"] = f.configured();
    field["source"] = SourceName(f.source());
    field["env_var"] = f.env_var();
    field["secret"] = f.secret();
    if (with_values && ShowValue(f, reveal)) field["value"] = f.value();
    fields.push_back(std::move(field));
  }
  out["fields"] = std::move(fields);
  if (!channel.problem().empty()) out["problem"] = channel.problem();
  if (!channel.storage_error().empty()) out["storage_error"] = channel.storage_error();
  return out;
}

void WarnAboutStorageError(const std::string& error) {
  if (error.empty()) return;
  std::cerr << "operatorctl: warning: the daemon cannot load channels.json: " << error << "\n";
}

}  // namespace

const std::map<std::string, std::string>& ChannelFieldFlags() {
  static const auto* const flags = new std::map<std::string, std::string>{
      {"--bot-token", "bot_token"}, {"--app-token", "app_token"}, {"--token", "token"},
      {"--username", "username"},   {"--password", "password"},
  };
  return *flags;
}

ChannelCommands::ChannelCommands(const GlobalOptions& options)
    : options_(options), client_(ClientOptionsFor(options)) {}

int ChannelCommands::Failed(const absl::Status& status) const {
  int code = ReportFailure(status, client_.socket_path());
  // An unknown channel is a mistyped command line, not a missing credential.
  return absl::IsNotFound(status) ? kExitUsage : code;
}

int ChannelCommands::List() {
  absl::StatusOr<v1::ListChannelsResponse> channels = client_.ListChannels();
  if (!channels.ok()) return Failed(channels.status());
  if (channels->channels_size() > 0) WarnAboutStorageError(channels->channels(0).storage_error());
  if (options_.json) {
    Json list = Json::array();
    for (const v1::ChannelInfo& c : channels->channels()) {
      list.push_back(ChannelToJson(c, /*with_values=*/false, /*reveal=*/false));
    }
    PrintJson(Json{{"channels", std::move(list)}}, std::cout);
    return kExitOk;
  }
  size_t name_width = 0;
  for (const v1::ChannelInfo& c : channels->channels()) {
    name_width = std::max(name_width, c.name().size());
  }
  for (const v1::ChannelInfo& c : channels->channels()) {
    std::cout << Padded(c.name(), name_width) << "  " << ChannelSummary(c) << "\n";
    for (const v1::ChannelField& f : c.fields()) {
      std::cout << "  " << Padded(f.name(), name_width) << "  " << FieldSummary(f) << "\n";
    }
    if (!c.problem().empty()) std::cout << "  problem: " << c.problem() << "\n";
  }
  return kExitOk;
}

int ChannelCommands::Show(const std::string& channel, bool reveal) {
  absl::StatusOr<v1::GetChannelResponse> response = client_.GetChannel(channel);
  if (!response.ok()) return Failed(response.status());
  const v1::ChannelInfo& info = response->channel();
  WarnAboutStorageError(info.storage_error());
  if (options_.json) {
    PrintJson(ChannelToJson(info, /*with_values=*/true, reveal), std::cout);
  } else {
    std::cout << info.display_name() << " (" << info.name() << "): " << ChannelSummary(info)
              << "\n";
    size_t width = 0;
    for (const v1::ChannelField& f : info.fields()) width = std::max(width, f.name().size());
    bool masked = false;
    for (const v1::ChannelField& f : info.fields()) {
      std::string value = "-";
      if (f.configured()) {
        value = ShowValue(f, reveal) ? f.value() : std::string(kMasked);
        masked = masked || !ShowValue(f, reveal);
      }
      std::cout << "  " << Padded(f.name(), width) << "  " << Padded(value, kMasked.size()) << "  "
                << FieldSummary(f) << "\n";
    }
    if (!info.problem().empty()) std::cout << "  problem: " << info.problem() << "\n";
    if (masked) std::cout << "(secret values hidden; --reveal shows them)\n";
  }
  return info.configured() ? kExitOk : kExitNotConfigured;
}

int ChannelCommands::Set(const std::string& channel,
                         const std::map<std::string, std::string>& fields) {
  if (fields.empty()) {
    std::string flags;
    for (const auto& [flag, field] : ChannelFieldFlags()) {
      absl::StrAppend(&flags, flags.empty() ? "" : ", ", flag);
    }
    return ReportUsageError(absl::StrCat("channels set needs at least one of ", flags,
                                         " (a value of - reads it from stdin)"));
  }
  int from_stdin = 0;
  for (const auto& [field, value] : fields) from_stdin += value == "-" ? 1 : 0;
  if (from_stdin > 1 && isatty(STDIN_FILENO) == 0) {
    return ReportUsageError(
        "only one value can be read from a pipe; give the others on the command line or run "
        "channels set once per field");
  }
  std::map<std::string, std::string> values;
  for (const auto& [field, value] : fields) {
    if (value != "-") {
      if (value.empty())
        return ReportUsageError(absl::StrCat("the value for ", field, " is empty"));
      values[field] = value;
      continue;
    }
    absl::StatusOr<std::string> read = ReadSecretFromStdin(absl::StrCat(channel, " ", field, ": "));
    if (!read.ok()) return Failed(read.status());
    values[field] = *std::move(read);
  }
  absl::StatusOr<v1::SetChannelResponse> response = client_.SetChannel(channel, values);
  if (!response.ok()) return Failed(response.status());
  std::string names;
  for (const auto& [field, value] : values)
    absl::StrAppend(&names, names.empty() ? "" : ", ", field);
  std::cout << (response->changed() ? "Saved " : "Already stored: ") << channel << " " << names
            << ".\n";
  return kExitOk;
}

int ChannelCommands::Unset(const std::string& channel) {
  absl::StatusOr<v1::UnsetChannelResponse> response = client_.UnsetChannel(channel);
  if (!response.ok()) return Failed(response.status());
  std::cout << (response->changed() ? "Cleared the stored credentials for " : "Nothing stored for ")
            << channel << ".\n";
  // The environment may still configure it; say so rather than let it look removed.
  if (absl::StatusOr<v1::ListChannelsResponse> after = client_.ListChannels(); after.ok()) {
    for (const v1::ChannelInfo& c : after->channels()) {
      if (c.name() != channel) continue;
      for (const v1::ChannelField& f : c.fields()) {
        if (f.source() == v1::CHANNEL_VALUE_SOURCE_ENV) {
          std::cout << "Note: " << f.env_var() << " in the daemon's environment still sets "
                    << f.name() << ".\n";
        }
      }
    }
  }
  return kExitOk;
}

}  // namespace operator_auth::cli
