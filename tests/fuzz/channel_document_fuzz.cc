// Fuzzes the channels.json codec (ChannelDocument). Invariants:
//   - a parse error is one of the fixed messages and quotes none of the input's strings;
//   - a parsed document serializes to text that parses to the same snapshot and serializes to
//     the same text again;
//   - after Set on one channel and Clear on another, the text still round-trips, every known
//     section and (in object sections) every known field is there, the value set reads back,
//     the cleared channel has no value left, and every section and field this daemon does not
//     understand is still there, unchanged, in the same order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"
#include "daemon/core/channel_catalog.h"
#include "daemon/core/channel_document.h"
#include "daemon/core/json_object_text.h"
#include "tests/fuzz/fuzz_invariant.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kSetValue[] = "fuzz-value-\xE2\x9C\x93";  // valid UTF-8, as callers validate

bool SameSnapshot(const ChannelSnapshot& a, const ChannelSnapshot& b) {
  return a.values == b.values && a.problems == b.problems && a.load_error == b.load_error;
}

// Serializes `document`, checks that the text is stable and gives the same snapshot, and returns
// the text as JSON.
Json RoundTrip(const ChannelDocument& document) {
  const std::string text = document.Serialize();
  const absl::StatusOr<ChannelDocument> again = ChannelDocument::Parse(text);
  AUTHD_FUZZ_CHECK(again.ok());
  AUTHD_FUZZ_CHECK(again->Serialize() == text);
  AUTHD_FUZZ_CHECK(SameSnapshot(again->Snapshot(), document.Snapshot()));
  absl::StatusOr<Json> json = ParseJsonObjectText(text);
  AUTHD_FUZZ_CHECK(json.ok());
  return *std::move(json);
}

bool IsKnownChannel(const std::string& name) { return FindChannel(name).ok(); }

// The keys of `object` that `keep` accepts, in order.
template <typename Keep>
std::vector<std::string> KeysWhere(const Json& object, Keep keep) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) {
    if (keep(key)) keys.push_back(key);
  }
  return keys;
}

// `written` (the document after edits) keeps every key of `original` that `unknown` accepts,
// with the same value and in the same order.
template <typename Unknown>
bool KeepsUnknownKeys(const Json& original, const Json& written, Unknown unknown) {
  for (const std::string& key : KeysWhere(original, unknown)) {
    auto it = written.find(key);
    if (it == written.end() || *it != original.at(key)) return false;
  }
  return KeysWhere(original, unknown) == KeysWhere(written, [&](const std::string& key) {
           return unknown(key) && original.contains(key);
         });
}

// Checks the written document against the original: every known section and field present,
// everything unknown kept. `edited` are the channels whose known fields may have changed.
void CheckWritten(const Json& original, const Json& written,
                  const std::vector<const ChannelDefinition*>& edited) {
  AUTHD_FUZZ_CHECK(KeepsUnknownKeys(original, written,
                                    [](const std::string& key) { return !IsKnownChannel(key); }));
  for (const ChannelDefinition& channel : ChannelCatalog()) {
    const std::string name(channel.name);
    auto section = written.find(name);
    AUTHD_FUZZ_CHECK(section != written.end());
    auto before = original.find(name);
    const bool had_section = before != original.end() && !before->is_null();
    if (had_section && !before->is_object()) {
      AUTHD_FUZZ_CHECK(*section == *before);  // not ours to repair
      continue;
    }
    AUTHD_FUZZ_CHECK(section->is_object());
    for (const ChannelField& field : channel.fields) {
      AUTHD_FUZZ_CHECK(section->contains(std::string(field.name)));
    }
    if (!had_section) continue;
    AUTHD_FUZZ_CHECK(KeepsUnknownKeys(*before, *section, [&](const std::string& key) {
      return channel.FindField(key) == nullptr;
    }));
    bool was_edited = false;
    for (const ChannelDefinition* e : edited) was_edited = was_edited || e == &channel;
    if (was_edited) continue;
    for (const ChannelField& field : channel.fields) {
      const std::string field_name(field.name);
      if (before->contains(field_name)) {
        AUTHD_FUZZ_CHECK(section->at(field_name) == before->at(field_name));
      } else {
        AUTHD_FUZZ_CHECK(section->at(field_name) == "");
      }
    }
  }
}

// One byte-sum of the input picks the channels and field the edits touch, so that every input
// edits something and the fuzzer can steer which.
size_t Pick(absl::string_view input) {
  size_t sum = input.size();
  for (char c : input) sum = sum * 31 + static_cast<unsigned char>(c);
  return sum;
}

void CheckChannelsText(absl::string_view input) {
  absl::StatusOr<ChannelDocument> document = ChannelDocument::Parse(input);
  if (!document.ok()) {
    const absl::string_view message = document.status().message();
    AUTHD_FUZZ_CHECK(document.status().code() == absl::StatusCode::kInvalidArgument);
    AUTHD_FUZZ_CHECK(fuzz::IsJsonTextError(message, input));
    return;
  }
  const absl::StatusOr<Json> original = ParseJsonObjectText(input);
  AUTHD_FUZZ_CHECK(original.ok());
  RoundTrip(*document);

  const std::vector<ChannelDefinition>& catalog = ChannelCatalog();
  const size_t pick = Pick(input);
  const ChannelDefinition& set_channel = catalog[pick % catalog.size()];
  const ChannelField& set_field = set_channel.fields[(pick / 7) % set_channel.fields.size()];
  const ChannelDefinition& cleared_channel = catalog[(pick / 61) % catalog.size()];
  auto section_is_editable = [&](const ChannelDefinition& channel) {
    auto section = original->find(std::string(channel.name));
    return section == original->end() || section->is_null() || section->is_object();
  };

  // Set: the value reads back; FAILED_PRECONDITION (and nothing changed) on a non-object section.
  const ChannelSnapshot before_set = document->Snapshot();
  const absl::StatusOr<bool> set = document->Set(set_channel, set_field, kSetValue);
  if (section_is_editable(set_channel)) {
    AUTHD_FUZZ_CHECK(set.ok());
    const std::string name(set_channel.name);
    const std::string field_name(set_field.name);
    auto old = before_set.values.find(name);
    const bool had_value = old != before_set.values.end() && old->second.count(field_name) == 1 &&
                           old->second.at(field_name) == kSetValue;
    AUTHD_FUZZ_CHECK(*set == !had_value);
    AUTHD_FUZZ_CHECK(document->Snapshot().values.at(name).at(field_name) == kSetValue);
  } else {
    AUTHD_FUZZ_CHECK(set.status().code() == absl::StatusCode::kFailedPrecondition);
  }

  // Clear: no value is left for the channel, and the fields it does not know stay.
  const absl::StatusOr<bool> cleared = document->Clear(cleared_channel);
  if (section_is_editable(cleared_channel)) {
    AUTHD_FUZZ_CHECK(cleared.ok());
    AUTHD_FUZZ_CHECK(document->Snapshot().values.count(std::string(cleared_channel.name)) == 0);
  } else {
    AUTHD_FUZZ_CHECK(cleared.status().code() == absl::StatusCode::kFailedPrecondition);
  }
  CheckWritten(*original, RoundTrip(*document), {&set_channel, &cleared_channel});
}

}  // namespace
}  // namespace operator_auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  operator_auth::CheckChannelsText(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
