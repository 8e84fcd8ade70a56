// The channels.json document: an ordered JSON object with one section per chat channel,
//   {"telegram": {"bot_token": ""}, "discord": {"bot_token": ""},
//    "slack": {"bot_token": "", "app_token": ""}, "twitch": {"token": ""},
//    "email": {"username": "", "password": ""}}
// Every write leaves all five sections with all their known fields ("" when unset). Sections and
// fields this daemon does not understand survive every rewrite unchanged, as does their order.
// Not thread-safe; a value type.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/core/channel_catalog.h"

namespace operator_auth {

// What channels.json holds for the known channels, built once per load.
struct ChannelSnapshot {
  // channel -> field -> non-empty value from the file.
  std::map<std::string, std::map<std::string, std::string>> values;
  // channel -> why part of its section is unusable (e.g. "section is not a JSON object").
  std::map<std::string, std::string> problems;
  // Non-empty while channels.json cannot be read or parsed; `values` is then empty.
  std::string load_error;
};

class ChannelDocument {
 public:
  ChannelDocument();  // an empty document: "{}"

  // Parses the text of channels.json. Errors name the position, never the content.
  static absl::StatusOr<ChannelDocument> Parse(absl::string_view text);

  std::string Serialize() const;

  ChannelSnapshot Snapshot() const;

  // Sets one field of a known channel. FAILED_PRECONDITION when the channel's section exists but
  // is not an object (it is kept as it is). Returns true when the value changed.
  absl::StatusOr<bool> Set(const ChannelDefinition& channel, const ChannelField& field,
                           const std::string& value);

  // Empties every known field of the channel, keeping fields we do not understand. Returns true
  // when a field held a value.
  absl::StatusOr<bool> Clear(const ChannelDefinition& channel);

 private:
  explicit ChannelDocument(nlohmann::ordered_json root) : root_(std::move(root)) {}

  // Adds missing sections and missing known fields ("") to object sections.
  void FillKnownFields();
  absl::StatusOr<nlohmann::ordered_json*> Section(const ChannelDefinition& channel);

  nlohmann::ordered_json root_;
};

}  // namespace operator_auth
