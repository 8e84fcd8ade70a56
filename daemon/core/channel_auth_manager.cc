#include "daemon/core/channel_auth_manager.h"

#include "absl/strings/str_cat.h"
#include "daemon/core/api_key_rules.h"

namespace operator_auth {

absl::StatusOr<std::unique_ptr<ChannelsFile>> OpenChannelsFile(const std::string& auth_dir) {
  SharedDocumentFileOptions options;
  // A channels.json that stops loading serves nothing from the file, as one that never loaded.
  options.keep_last_good_on_error = false;
  options.max_write_bytes = kMaxChannelsFileBytes;
  return ChannelsFile::Open(
      auth_dir, "channels.json", "channels.lock",
      [](const ChannelDocument& document) { return document.Snapshot(); }, options);
}

ChannelAuthManager::ChannelAuthManager(ChannelsFile& file, EnvLookup env)
    : file_(file), env_(env ? std::move(env) : EnvLookup(ProcessEnv)) {}

ChannelState ChannelAuthManager::Resolve(const ChannelDefinition& channel,
                                         const ChannelSnapshot& snapshot, bool with_values) const {
  ChannelState state;
  state.channel = std::string(channel.name);
  state.display_name = std::string(channel.display_name);
  state.storage_error = snapshot.load_error;
  if (auto problem = snapshot.problems.find(state.channel); problem != snapshot.problems.end()) {
    state.problem = problem->second;
  }
  const std::map<std::string, std::string>* stored = nullptr;
  if (auto it = snapshot.values.find(state.channel); it != snapshot.values.end()) {
    stored = &it->second;
  }
  state.configured = true;
  for (const ChannelField& field : channel.fields) {
    ChannelFieldState f;
    f.field = std::string(field.name);
    f.env_var = std::string(field.env_var);
    f.secret = field.secret;
    std::optional<std::string> value;
    if (stored != nullptr) {
      if (auto it = stored->find(f.field); it != stored->end()) {
        f.source = ChannelValueSource::kFile;
        value = it->second;
      }
    }
    if (!value.has_value()) {
      value = env_(f.env_var);
      if (value.has_value()) f.source = ChannelValueSource::kEnv;
    }
    if (!value.has_value()) state.configured = false;
    if (with_values && value.has_value()) f.value = *std::move(value);
    state.fields.push_back(std::move(f));
  }
  return state;
}

std::vector<ChannelState> ChannelAuthManager::List() {
  std::shared_ptr<const ChannelSnapshot> snapshot = file_.Snapshot();
  std::vector<ChannelState> out;
  for (const ChannelDefinition& channel : ChannelCatalog()) {
    out.push_back(Resolve(channel, *snapshot, /*with_values=*/false));
  }
  return out;
}

absl::StatusOr<ChannelState> ChannelAuthManager::Get(const std::string& channel) {
  absl::StatusOr<const ChannelDefinition*> definition = FindChannel(channel);
  if (!definition.ok()) return definition.status();
  return Resolve(**definition, *file_.Snapshot(), /*with_values=*/true);
}

absl::StatusOr<bool> ChannelAuthManager::Set(const std::string& channel,
                                             const std::map<std::string, std::string>& fields) {
  absl::StatusOr<const ChannelDefinition*> definition = FindChannel(channel);
  if (!definition.ok()) return definition.status();
  if (fields.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no fields given to set for channel \"", channel, "\""));
  }
  std::vector<std::pair<const ChannelField*, const std::string*>> changes;
  for (const auto& [name, value] : fields) {
    const ChannelField* field = (*definition)->FindField(name);
    if (field == nullptr) {
      std::string known;
      for (const ChannelField& f : (*definition)->fields) {
        absl::StrAppend(&known, known.empty() ? "" : ", ", f.name);
      }
      // The name may be anything (a misplaced secret even): quote it only when it looks like one.
      return absl::InvalidArgumentError(absl::StrCat(
          "channel \"", channel, "\" has no field ",
          IsPlausibleChannelName(name) ? absl::StrCat("\"", name, "\"") : "by that name",
          " (fields: ", known, ")"));
    }
    if (absl::Status s = ValidateSecretValue(value, absl::StrCat(channel, " ", name)); !s.ok()) {
      return s;
    }
    changes.emplace_back(field, &value);
  }
  bool changed = false;
  absl::Status s = file_.Update([&](ChannelDocument& document) -> absl::StatusOr<bool> {
    changed = false;
    for (const auto& [field, value] : changes) {
      absl::StatusOr<bool> one = document.Set(**definition, *field, *value);
      if (!one.ok()) return one.status();
      changed = changed || *one;
    }
    return changed;
  });
  if (!s.ok()) return s;
  return changed;
}

absl::StatusOr<bool> ChannelAuthManager::Unset(const std::string& channel) {
  absl::StatusOr<const ChannelDefinition*> definition = FindChannel(channel);
  if (!definition.ok()) return definition.status();
  bool changed = false;
  absl::Status s = file_.Update([&](ChannelDocument& document) -> absl::StatusOr<bool> {
    absl::StatusOr<bool> cleared = document.Clear(**definition);
    if (!cleared.ok()) return cleared.status();
    changed = *cleared;
    return changed;
  });
  if (!s.ok()) return s;
  return changed;
}

}  // namespace operator_auth
