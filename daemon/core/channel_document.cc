#include "daemon/core/channel_document.h"

#include "absl/strings/str_cat.h"
#include "daemon/core/json_object_text.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

}  // namespace

ChannelDocument::ChannelDocument() : root_(Json::object()) {}

absl::StatusOr<ChannelDocument> ChannelDocument::Parse(absl::string_view text) {
  absl::StatusOr<Json> root = ParseJsonObjectText(text);
  if (!root.ok()) return root.status();
  return ChannelDocument(*std::move(root));
}

std::string ChannelDocument::Serialize() const { return PrintJsonText(root_); }

ChannelSnapshot ChannelDocument::Snapshot() const {
  ChannelSnapshot snapshot;
  for (const ChannelDefinition& channel : ChannelCatalog()) {
    const std::string name(channel.name);
    auto section = root_.find(name);
    if (section == root_.end() || section->is_null()) continue;
    if (!section->is_object()) {
      snapshot.problems[name] = "section is not a JSON object";
      continue;
    }
    for (const ChannelField& field : channel.fields) {
      auto value = section->find(std::string(field.name));
      if (value == section->end() || value->is_null()) continue;
      if (!value->is_string()) {
        snapshot.problems.emplace(name, absl::StrCat("field \"", field.name, "\" is not a string"));
        continue;
      }
      std::string text = value->get<std::string>();
      if (!text.empty()) snapshot.values[name][std::string(field.name)] = std::move(text);
    }
  }
  return snapshot;
}

void ChannelDocument::FillKnownFields() {
  for (const ChannelDefinition& channel : ChannelCatalog()) {
    const std::string name(channel.name);
    auto section = root_.find(name);
    if (section == root_.end() || section->is_null()) {
      root_[name] = Json::object();
      section = root_.find(name);
    }
    if (!section->is_object()) continue;
    for (const ChannelField& field : channel.fields) {
      const std::string field_name(field.name);
      if (!section->contains(field_name)) (*section)[field_name] = "";
    }
  }
}

absl::StatusOr<Json*> ChannelDocument::Section(const ChannelDefinition& channel) {
  FillKnownFields();
  Json& section = root_[std::string(channel.name)];
  if (!section.is_object()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "channels.json: the \"", channel.name,
        "\" section is not a JSON object; fix or remove it before changing the channel"));
  }
  return &section;
}

absl::StatusOr<bool> ChannelDocument::Set(const ChannelDefinition& channel,
                                          const ChannelField& field, const std::string& value) {
  absl::StatusOr<Json*> section = Section(channel);
  if (!section.ok()) return section.status();
  Json& slot = (**section)[std::string(field.name)];
  if (slot.is_string() && slot.get_ref<const std::string&>() == value) return false;
  slot = value;
  return true;
}

absl::StatusOr<bool> ChannelDocument::Clear(const ChannelDefinition& channel) {
  absl::StatusOr<Json*> section = Section(channel);
  if (!section.ok()) return section.status();
  bool changed = false;
  for (const ChannelField& field : channel.fields) {
    Json& slot = (**section)[std::string(field.name)];
    if (slot.is_string() && slot.get_ref<const std::string&>().empty()) continue;
    slot = "";
    changed = true;
  }
  return changed;
}

}  // namespace operator_auth
