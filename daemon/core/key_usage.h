// What a caller needs besides the key itself to call a provider's API with it: whether it is an
// API key or an OAuth access token, the account or project the token acts for, where requests go
// when the token decides that (GitHub Copilot), and the non-secret request headers that kind of
// token needs (README's per-provider table). Plain value type; holds no secret.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace operator_auth {

enum class KeyKind { kApiKey, kOAuthAccessToken };

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct KeyUsage {
  KeyKind kind = KeyKind::kApiKey;
  std::string account_id;  // openai-codex: the ChatGPT account (chatgpt-account-id header)
  std::string project_id;  // Google Code Assist: the project every request names
  std::string base_url;    // empty: the provider's usual API host
  HeaderList headers;      // never the key itself: callers add Authorization / x-api-key

  bool operator==(const KeyUsage& other) const {
    return kind == other.kind && account_id == other.account_id &&
           project_id == other.project_id && base_url == other.base_url &&
           headers == other.headers;
  }
  bool operator!=(const KeyUsage& other) const { return !(*this == other); }
};

}  // namespace operator_auth
