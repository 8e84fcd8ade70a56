#include "tests/fake_oauth/token_store.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "tests/fake_oauth/token_encoding.h"

namespace operator_auth::testing {
namespace {

// Random bytes in the 8kp= signature field of a Copilot token.
constexpr size_t kCopilotSignatureBytes = 32;

GrantResult Error(std::string error, std::string description = "") {
  GrantResult result;
  result.error = std::move(error);
  result.error_description = std::move(description);
  return result;
}

GrantResult Success(IssuedTokens tokens) {
  GrantResult result;
  result.tokens = std::move(tokens);
  return result;
}

}  // namespace

TokenStore::TokenStore(TokenPolicy policy) : policy_(std::move(policy)) {}

std::string TokenStore::IssueAuthorizationCode(const std::string& client_id,
                                               const std::string& redirect_uri,
                                               const std::string& code_challenge) {
  std::string code = absl::StrCat("ac-", RandomHex(16));
  absl::MutexLock lock(&mu_);
  authorization_codes_[code] = AuthorizationCode{client_id, redirect_uri, code_challenge};
  return code;
}

GrantResult TokenStore::RedeemAuthorizationCode(const std::string& code,
                                                const std::string& redirect_uri,
                                                const std::string& code_verifier,
                                                const std::string& client_id) {
  absl::MutexLock lock(&mu_);
  auto it = authorization_codes_.find(code);
  if (it == authorization_codes_.end()) {
    return Error("invalid_grant", "authorization code unknown or already used");
  }
  const AuthorizationCode bound = std::move(it->second);
  authorization_codes_.erase(it);
  if (bound.redirect_uri != redirect_uri) return Error("invalid_grant", "redirect_uri mismatch");
  if (!client_id.empty() && bound.client_id != client_id) {
    return Error("invalid_grant", "client_id mismatch");
  }
  if (S256Challenge(code_verifier) != bound.code_challenge) {
    return Error("invalid_grant", "code_verifier does not match code_challenge");
  }
  return Success(IssueLocked());
}

void TokenStore::AddRefreshToken(const std::string& refresh_token) {
  absl::MutexLock lock(&mu_);
  refresh_tokens_.insert(refresh_token);
}

GrantResult TokenStore::RedeemRefreshToken(const std::string& refresh_token) {
  absl::MutexLock lock(&mu_);
  if (refresh_tokens_.erase(refresh_token) == 0) {
    return Error("invalid_grant", "refresh token reused or unknown");
  }
  return Success(IssueLocked());
}

void TokenStore::RevokeToken(const std::string& token) {
  absl::MutexLock lock(&mu_);
  refresh_tokens_.erase(token);
  access_tokens_.erase(token);
}

void TokenStore::AddAccessToken(const std::string& access_token) {
  absl::MutexLock lock(&mu_);
  access_tokens_[access_token] = absl::InfiniteFuture();
}

bool TokenStore::IsAccessTokenValid(const std::string& access_token) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  auto it = access_tokens_.find(access_token);
  return it != access_tokens_.end() && now < it->second;
}

DeviceAuthorization TokenStore::StartDeviceAuthorization() {
  DeviceAuthorization authorization{absl::StrCat("dc-", RandomHex(16)), RandomUserCode(),
                                    policy_.device_interval_s};
  absl::MutexLock lock(&mu_);
  device_codes_[authorization.device_code] =
      DeviceCode{policy_.device_pending_polls, policy_.device_interval_s, std::nullopt};
  return authorization;
}

GrantResult TokenStore::PollDeviceCode(const std::string& device_code) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  auto it = device_codes_.find(device_code);
  if (it == device_codes_.end()) {
    return Error("invalid_grant", "device code unknown or already used");
  }
  DeviceCode& state = it->second;
  const std::optional<absl::Time> previous = std::exchange(state.last_poll, now);
  if (state.interval_s > 0 && previous.has_value() &&
      now - *previous < absl::Seconds(state.interval_s)) {
    state.interval_s += kSlowDownIncrementS;
    return Error("slow_down");
  }
  if (state.pending_polls_left > 0) {
    --state.pending_polls_left;
    return Error("authorization_pending");
  }
  device_codes_.erase(it);
  IssuedTokens tokens = IssueLocked();
  github_tokens_.insert(tokens.access_token);
  return Success(std::move(tokens));
}

void TokenStore::AddGithubToken(const std::string& github_token) {
  absl::MutexLock lock(&mu_);
  github_tokens_.insert(github_token);
}

std::optional<CopilotToken> TokenStore::ExchangeGithubToken(const std::string& github_token) {
  const absl::Time now = absl::Now();
  const int64_t now_s = absl::ToUnixSeconds(now);
  const std::string signature = RandomHex(kCopilotSignatureBytes);
  absl::MutexLock lock(&mu_);
  if (github_tokens_.count(github_token) == 0) return std::nullopt;
  const int64_t expires_at = now_s + policy_.access_token_lifetime_s;
  CopilotToken copilot{
      absl::StrCat("tid=copilot-", ++serial_, ";exp=", expires_at, ";sku=", kCopilotSku,
                   ";proxy-ep=", kCopilotProxyEndpoint, ";8kp=1:", signature),
      expires_at,
      std::min(kCopilotRefreshInS,
               std::max(0, policy_.access_token_lifetime_s - kCopilotRefreshMarginS))};
  // Good for the whole lifetime; expires_at, truncated to seconds, may say a little less.
  copilot_tokens_[copilot.token] = now + absl::Seconds(policy_.access_token_lifetime_s);
  return copilot;
}

bool TokenStore::IsCopilotTokenValid(const std::string& copilot_token) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  auto it = copilot_tokens_.find(copilot_token);
  return it != copilot_tokens_.end() && now < it->second;
}

IssuedTokens TokenStore::IssueLocked() {
  const int64_t serial = ++serial_;
  const absl::Time expiry = absl::Now() + absl::Seconds(policy_.access_token_lifetime_s);
  const nlohmann::json payload = {
      {"sub", "fake-user"},
      {"exp", absl::ToUnixSeconds(expiry)},
      {"https://api.openai.com/auth", {{"chatgpt_account_id", policy_.account_id}}},
      {"n", serial},
  };
  IssuedTokens tokens;
  tokens.access_token = UnsignedJwt(payload);
  tokens.refresh_token = absl::StrCat("rt-", serial, "-", RandomHex(8));
  tokens.expires_in = policy_.access_token_lifetime_s;
  refresh_tokens_.insert(tokens.refresh_token);
  access_tokens_[tokens.access_token] = expiry;
  return tokens;
}

}  // namespace operator_auth::testing
