// authd_race_writer: one process of the race tests, writing through the C++ client library.
//   authd_race_writer SOCKET PREFIX COUNT
// For i in [0, COUNT): sets PREFIX-i to "cckey-PREFIX-i"; after every third set (i % 3 == 2) it
// unsets PREFIX-(i-1). Keys are derived, never passed on argv. Exits 0 when every call
// succeeded, 1 otherwise (printing the first failure's status, which holds no secret).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "operator_auth/auth_client.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: authd_race_writer SOCKET PREFIX COUNT\n");
    return 2;
  }
  operator_auth::AuthClientOptions options;
  options.socket_path = argv[1];
  options.env_fallback = false;
  options.deadline = std::chrono::milliseconds(30000);
  operator_auth::AuthClient client(options);
  const std::string prefix = argv[2];
  const int count = std::atoi(argv[3]);
  for (int i = 0; i < count; ++i) {
    const std::string id = prefix + "-" + std::to_string(i);
    absl::StatusOr<operator_auth::v1::SetApiKeyResponse> set = client.SetApiKey(id, "cckey-" + id);
    if (!set.ok()) {
      std::fprintf(stderr, "set %s: %s\n", id.c_str(), set.status().ToString().c_str());
      return 1;
    }
    if (i % 3 == 2) {
      const std::string previous = prefix + "-" + std::to_string(i - 1);
      absl::StatusOr<operator_auth::v1::LogoutResponse> unset = client.Logout(previous);
      if (!unset.ok() || !unset->removed()) {
        std::fprintf(stderr, "unset %s: %s\n", previous.c_str(),
                     unset.ok() ? "nothing was stored" : unset.status().ToString().c_str());
        return 1;
      }
    }
  }
  std::printf("done %d\n", count);
  return 0;
}
