#include "daemon/core/file_auth_storage.h"

namespace operator_auth {

absl::StatusOr<std::unique_ptr<FileAuthStorage>> FileAuthStorage::Open(const std::string& auth_dir,
                                                                       Options options) {
  SharedDocumentFileOptions file_options;
  file_options.lock_timeout = options.lock_timeout;
  file_options.keep_last_good_on_error = true;
  file_options.max_write_bytes = options.max_write_bytes;
  absl::StatusOr<std::unique_ptr<File>> file = File::Open(
      auth_dir, "providers.json", "providers.lock",
      [](const CredentialDocument& document) {
        return CredentialSnapshot{document.Credentials(), "", document.DefaultAccountNames()};
      },
      file_options);
  if (!file.ok()) return file.status();
  return std::unique_ptr<FileAuthStorage>(new FileAuthStorage(*std::move(file)));
}

}  // namespace operator_auth
