#include "daemon/vendor/vendor_links.h"

#include <openssl/evp.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "daemon/core/atomic_file.h"
#include "daemon/core/credentials_file.h"
#include "daemon/core/json_object_text.h"
#include "daemon/core/secret_string.h"

namespace operator_auth {
namespace {

using Json = nlohmann::ordered_json;

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace

std::string LoginFingerprint(const Credential* credential) {
  if (credential == nullptr || !credential->usable()) return std::string();
  std::string material;
  switch (credential->type) {
    case CredentialType::kApiKey:
      material = absl::StrCat("api_key", std::string(1, '\0'), credential->key.str());
      break;
    case CredentialType::kOAuth:
      material = absl::StrCat("oauth", std::string(1, '\0'), credential->access.str(),
                              std::string(1, '\0'), credential->refresh.str());
      break;
    case CredentialType::kUnknown:
      return std::string();
  }
  std::string hex = Sha256Hex(material).substr(0, 32);
  CleanseString(material);
  return hex;
}

absl::StatusOr<std::vector<VendorLink>> LoadVendorLinks(const std::string& path) {
  const std::filesystem::path fs_path(path);
  CredentialsFile file(fs_path.parent_path().string(), fs_path.filename().string(), "");
  absl::StatusOr<std::optional<std::string>> text = file.Read();
  if (!text.ok()) return text.status();
  std::vector<VendorLink> links;
  if (!text->has_value()) return links;
  absl::StatusOr<Json> root = ParseJsonObjectText(**text);
  if (!root.ok()) return absl::DataLossError(absl::StrCat(path, ": ", root.status().message()));
  auto list = root->find("links");
  if (list == root->end() || !list->is_array()) {
    return absl::DataLossError(absl::StrCat(path, ": no \"links\" array"));
  }
  for (const Json& entry : *list) {
    if (!entry.is_object())
      return absl::DataLossError(absl::StrCat(path, ": a link is not an object"));
    VendorLink link;
    absl::StatusOr<VendorSource> source = ParseVendorSource(entry.value("source", ""));
    if (!source.ok())
      return absl::DataLossError(absl::StrCat(path, ": ", source.status().message()));
    link.source = *source;
    link.path = entry.value("path", "");
    if (link.path.empty() || link.path[0] != '/') {
      return absl::DataLossError(absl::StrCat(path, ": a link has no absolute \"path\""));
    }
    auto synced = entry.find("synced");
    if (synced != entry.end() && synced->is_object()) {
      for (const auto& [provider, fingerprint] : synced->items()) {
        if (fingerprint.is_string()) link.synced[provider] = fingerprint.get<std::string>();
      }
    }
    auto linked = entry.find("linked_unix_ms");
    if (linked != entry.end() && linked->is_number_integer()) link.linked_unix_ms = *linked;
    links.push_back(std::move(link));
  }
  return links;
}

absl::Status SaveVendorLinks(const std::string& path, const std::vector<VendorLink>& links) {
  Json list = Json::array();
  for (const VendorLink& link : links) {
    Json synced = Json::object();
    for (const auto& [provider, fingerprint] : link.synced) synced[provider] = fingerprint;
    list.push_back(Json{{"source", std::string(VendorSourceName(link.source))},
                        {"path", link.path},
                        {"synced", std::move(synced)},
                        {"linked_unix_ms", link.linked_unix_ms}});
  }
  return WriteFileAtomically(path, PrintJsonText(Json{{"links", std::move(list)}}));
}

}  // namespace operator_auth
