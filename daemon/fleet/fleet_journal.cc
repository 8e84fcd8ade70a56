#include "daemon/fleet/fleet_journal.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/core/atomic_file.h"
#include "daemon/core/credential_document.h"
#include "daemon/core/posix_error.h"
#include "daemon/core/private_directory.h"

namespace operator_auth {
namespace {

constexpr char kSuffix[] = ".sealed";
// An entry is one credential: far below this.
constexpr size_t kMaxEntryBytes = 256 * 1024;

}  // namespace

FleetJournal::FleetJournal(std::string directory, FleetKey key, std::string fleet_name,
                           TrustBoundary boundary)
    : directory_(std::move(directory)),
      key_(std::move(key)),
      fleet_name_(std::move(fleet_name)),
      boundary_(std::move(boundary)) {}

std::string FleetJournal::PathOf(const std::string& key) const {
  return absl::StrCat(directory_, "/", absl::BytesToHexString(key), kSuffix);
}

std::string FleetJournal::AssociatedData(const std::string& key) const {
  return absl::StrCat("/operator-authd/", fleet_name_, "/journal/", key);
}

absl::Status FleetJournal::Record(const Entry& entry) {
  if (absl::Status s = EnsurePrivateDirectory(directory_); !s.ok()) return s;
  CredentialDocument one;
  one.Put(entry.key, entry.fresh);
  std::string document = one.Serialize();
  nlohmann::json record = {{"key", entry.key},
                           {"spent_refresh", std::string(entry.spent_refresh.view())},
                           {"document", document}};
  std::string text = record.dump();
  const std::string sealed = key_.Seal(text, AssociatedData(entry.key));
  CleanseString(text);
  CleanseString(document);
  CleanseString(record["spent_refresh"].get_ref<std::string&>());
  CleanseString(record["document"].get_ref<std::string&>());
  return WriteFileAtomically(PathOf(entry.key), sealed);
}

absl::Status FleetJournal::Remove(const std::string& key) {
  if (unlink(PathOf(key).c_str()) != 0 && errno != ENOENT) {
    return PosixError(errno, "remove", PathOf(key));
  }
  return absl::OkStatus();
}

std::vector<FleetJournal::Entry> FleetJournal::Entries(std::vector<std::string>* problems) const {
  std::vector<Entry> entries;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(directory_.c_str()), closedir);
  if (dir == nullptr) {
    if (errno != ENOENT) problems->push_back(std::string(PosixError(errno, "read", directory_).message()));
    return entries;
  }
  std::vector<std::string> names;
  while (const dirent* e = readdir(dir.get())) {
    const std::string name = e->d_name;
    if (name.front() != '.' && absl::EndsWith(name, kSuffix)) names.push_back(name);
  }
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(directory_, "/", name);
    const std::string hex = name.substr(0, name.size() - (sizeof(kSuffix) - 1));
    if (hex.empty() || hex.size() % 2 != 0 ||
        !std::all_of(hex.begin(), hex.end(), [](char c) { return absl::ascii_isxdigit(c); })) {
      problems->push_back(absl::StrCat(path, ": not a journal entry's name"));
      continue;
    }
    const std::string key = absl::HexStringToBytes(hex);
    absl::StatusOr<std::string> sealed = ReadTrustedFile(path, kMaxEntryBytes, boundary_);
    if (!sealed.ok()) {
      if (!absl::IsNotFound(sealed.status())) {
        problems->push_back(std::string(sealed.status().message()));
      }
      continue;
    }
    absl::StatusOr<SecretString> text = key_.Open(*sealed, AssociatedData(key));
    if (!text.ok()) {
      problems->push_back(absl::StrCat(path, ": does not open with this fleet's key (",
                                       key_.Fingerprint(), "); left where it is"));
      continue;
    }
    nlohmann::json record = nlohmann::json::parse(text->view(), nullptr, /*allow_exceptions=*/false);
    if (!record.is_object() || !record.contains("key") || !record["key"].is_string() ||
        record["key"].get<std::string>() != key || !record.contains("spent_refresh") ||
        !record["spent_refresh"].is_string() || !record.contains("document") ||
        !record["document"].is_string()) {
      problems->push_back(absl::StrCat(path, ": not a journal entry"));
      continue;
    }
    absl::StatusOr<CredentialDocument> document =
        CredentialDocument::Parse(record["document"].get_ref<const std::string&>());
    std::map<std::string, Credential> credentials;
    if (document.ok()) credentials = document->Credentials();
    auto it = credentials.find(key);
    if (it == credentials.end()) {
      problems->push_back(absl::StrCat(path, ": holds no credential for ", key));
      continue;
    }
    Entry entry;
    entry.key = key;
    entry.spent_refresh = SecretString(record["spent_refresh"].get<std::string>());
    entry.fresh = it->second;
    CleanseString(record["spent_refresh"].get_ref<std::string&>());
    CleanseString(record["document"].get_ref<std::string&>());
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace operator_auth
