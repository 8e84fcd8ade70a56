// `operatorctl fleet keygen PATH`: writes a new fleet key (base64 of 32 random bytes on one line,
// the format `openssl rand -base64 32` prints) to PATH, mode 0600. PATH must not exist: a key in
// use is never overwritten, since every value sealed under it would be lost. The key is never
// printed; stdout names the file and the key's fingerprint. Thread-compatible.
#pragma once

#include <string>

namespace operator_auth::cli {

// 0 when written; 4 when PATH exists (or is a symlink) or cannot be written, nothing left behind.
int RunFleetKeygen(const std::string& path);

}  // namespace operator_auth::cli
