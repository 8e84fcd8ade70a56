// A minimal agent: asks operator-authd for a provider's key and prints what a request with it
// needs, never the key itself. Built against an installed client (CMakeLists.txt beside it, or
// pkg-config); tests/integration/install_test.cc builds and runs it both ways.
//
//   agent PROVIDER [SOCKET]    exit 0: a key; 1: none; 3: the daemon is not reachable
#include <cstdio>
#include <string>

#include "operator_auth/auth_client.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s PROVIDER [SOCKET]\n", argv[0]);
    return 2;
  }
  operator_auth::AuthClientOptions options;
  if (argc == 3) options.socket_path = argv[2];
  operator_auth::AuthClient client(options);
  absl::StatusOr<operator_auth::ApiKey> key = client.GetApiKey(argv[1]);
  if (!key.ok()) {
    std::fprintf(stderr, "agent: %s\n", std::string(key.status().message()).c_str());
    return absl::IsUnavailable(key.status()) ? 3 : 1;
  }
  std::printf("provider %s\n", key->provider.c_str());
  std::printf("kind %s\n", key->kind == operator_auth::ApiKeyKind::kOAuthAccessToken
                               ? "oauth_access_token"
                               : "api_key");
  std::printf("key length %zu\n", key->key.size());
  for (const auto& [name, value] : key->headers) {
    std::printf("header %s: %s\n", name.c_str(), value.c_str());
  }
  return 0;
}
