// Resolves, reports and changes chat-channel bot credentials (channels.json). Each field resolves
// from the file when it holds a non-empty value, else from its environment variable
// (TELEGRAM_BOT_TOKEN, ...). Environment values are never written to the file, also not when
// another field of the same channel is set. A channels.json that does not load serves no file
// values (environment only) and is never written until it loads again.
// Thread-safe: any number of callers may use one manager at once.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/core/channel_catalog.h"
#include "daemon/core/channel_document.h"
#include "daemon/core/env_lookup.h"
#include "daemon/core/shared_document_file.h"
#include "daemon/core/storage_error_log.h"

namespace operator_auth {

using ChannelsFile = SharedDocumentFile<ChannelDocument, ChannelSnapshot>;

// The largest channels.json this daemon writes (the file stays loadable at this size).
inline constexpr size_t kMaxChannelsFileBytes = 1024 * 1024;

// Opens $auth_dir/channels.json with its lock file channels.lock.
absl::StatusOr<std::unique_ptr<ChannelsFile>> OpenChannelsFile(const std::string& auth_dir);

enum class ChannelValueSource { kNone, kFile, kEnv };

// One field's resolution. `value` is filled only by ChannelAuthManager::Get.
struct ChannelFieldState {
  std::string field;
  ChannelValueSource source = ChannelValueSource::kNone;
  std::string env_var;
  bool secret = true;
  std::string value;
};

struct ChannelState {
  std::string channel;
  std::string display_name;
  // Every field resolves (from the file or the environment).
  bool configured = false;
  std::vector<ChannelFieldState> fields;
  // Why part of the channel's section in channels.json is unusable; empty when it is fine.
  std::string problem;
  // Non-empty while channels.json cannot be read or parsed.
  std::string storage_error;
};

class ChannelAuthManager {
 public:
  ChannelAuthManager(ChannelsFile& file, EnvLookup env = nullptr);

  // Every channel with its fields' sources, without values.
  std::vector<ChannelState> List();
  // One channel with its fields' values (secrets included).
  absl::StatusOr<ChannelState> Get(const std::string& channel);
  // Sets the given fields (a partial update: other fields keep their values). Every field must
  // be known and every value valid, or nothing is written. Returns true when the file changed.
  absl::StatusOr<bool> Set(const std::string& channel,
                           const std::map<std::string, std::string>& fields);
  // Empties every field of the channel in the file. Returns true when one held a value.
  absl::StatusOr<bool> Unset(const std::string& channel);

  std::vector<StorageError> DrainErrors() { return file_.DrainErrors(); }

 private:
  ChannelState Resolve(const ChannelDefinition& channel, const ChannelSnapshot& snapshot,
                       bool with_values) const;

  ChannelsFile& file_;
  const EnvLookup env_;
};

}  // namespace operator_auth
