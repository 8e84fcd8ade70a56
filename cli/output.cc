#include "cli/output.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace operator_auth::cli {
namespace {

constexpr absl::string_view kNone = "-";

// "stored", "runtime", "env", or "" when nothing resolved.
std::string SourceName(v1::CredentialSource source) {
  switch (source) {
    case v1::CREDENTIAL_SOURCE_STORED:
      return "stored";
    case v1::CREDENTIAL_SOURCE_RUNTIME:
      return "runtime";
    case v1::CREDENTIAL_SOURCE_ENV:
      return "env";
    default:
      return "";
  }
}

nlohmann::ordered_json SourceToJson(v1::CredentialSource source) {
  std::string name = SourceName(source);
  if (name.empty()) return nullptr;
  return name;
}

std::string SourceName(ApiKeySource source) {
  switch (source) {
    case ApiKeySource::kDaemonStored:
      return "stored";
    case ApiKeySource::kDaemonRuntime:
      return "runtime";
    case ApiKeySource::kDaemonEnv:
      return "env";
    case ApiKeySource::kCallerEnv:
      return "caller_env";
  }
  return "unknown";
}

std::string StoredTypeName(v1::StoredCredentialType type) {
  switch (type) {
    case v1::STORED_CREDENTIAL_TYPE_NONE:
      return "none";
    case v1::STORED_CREDENTIAL_TYPE_API_KEY:
      return "api_key";
    case v1::STORED_CREDENTIAL_TYPE_OAUTH:
      return "oauth";
    default:
      return "unknown";
  }
}

bool IsOAuth(const v1::ProviderInfo& provider) {
  return provider.kind() == v1::PROVIDER_KIND_OAUTH;
}

std::string OrNone(const std::string& s) { return s.empty() ? std::string(kNone) : s; }

std::string YesNo(bool b) { return b ? "yes" : "no"; }

}  // namespace

std::string StatusSummary(const v1::AuthStatus& status) {
  if (status.configured()) {
    switch (status.source()) {
      case v1::CREDENTIAL_SOURCE_STORED:
        return "configured (stored)";
      case v1::CREDENTIAL_SOURCE_RUNTIME:
        return "configured (runtime)";
      case v1::CREDENTIAL_SOURCE_ENV:
        return absl::StrCat("configured (env ",
                            status.label().empty() ? status.env_var() : status.label(), ")");
      default:
        return "configured";
    }
  }
  // A stored entry that resolution passed over is worth a word: it is why a login "did not stick".
  if (status.needs_login()) return "needs login (refresh token rejected)";
  if (status.stored_type() == v1::STORED_CREDENTIAL_TYPE_OAUTH && status.expired()) {
    return "not configured (stored OAuth token expired)";
  }
  if (status.stored_type() != v1::STORED_CREDENTIAL_TYPE_NONE) {
    return "not configured (stored entry unusable)";
  }
  return "not configured";
}

std::string Padded(absl::string_view s, size_t width) {
  std::string out(s);
  out.resize(std::max(width, s.size()), ' ');
  return out;
}

std::string FormatUnixMillisUtc(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

void PrintProviderTable(const v1::ListProvidersResponse& providers, std::ostream& out) {
  size_t id_width = 0;
  size_t name_width = 0;
  for (const v1::ProviderInfo& p : providers.providers()) {
    id_width = std::max(id_width, p.id().size());
    name_width = std::max(name_width, p.display_name().size());
  }
  auto print_section = [&](absl::string_view title, bool oauth) {
    out << title << "\n";
    bool any = false;
    for (const v1::ProviderInfo& p : providers.providers()) {
      if (IsOAuth(p) != oauth) continue;
      any = true;
      out << "  " << Padded(p.id(), id_width) << "  " << Padded(p.display_name(), name_width)
          << "  " << StatusSummary(p.status());
      if (!p.aliases().empty()) out << "  (alias " << absl::StrJoin(p.aliases(), ", ") << ")";
      out << "\n";
      // Several accounts: one line each under the provider, the default marked.
      for (const v1::AccountInfo& account : p.accounts()) {
        out << "  " << Padded("", id_width) << "  "
            << Padded(absl::StrCat("@", account.name(), account.is_default() ? " (default)" : ""),
                      name_width)
            << "  " << StatusSummary(account.status()) << "\n";
      }
    }
    if (!any) out << "  (none)\n";
  };
  print_section("OAuth providers", true);
  out << "\n";
  print_section("API-key providers", false);
}

void PrintStatusDetail(const v1::AuthStatus& status, std::ostream& out) {
  std::string expires(kNone);
  if (status.expires_unix_ms() != 0) expires = FormatUnixMillisUtc(status.expires_unix_ms());
  std::vector<std::pair<absl::string_view, std::string>> rows = {
      {"provider", status.provider()},
      {"account", absl::StrCat(status.account(), status.default_account() ? " (default)" : "")},
      {"configured", YesNo(status.configured())},
      {"source", OrNone(SourceName(status.source()))},
      {"label", OrNone(status.label())},
      {"stored type", StoredTypeName(status.stored_type())},
      {"env var", OrNone(status.env_var())},
      {"runtime override", YesNo(status.runtime_override())},
      {"expires", expires},
      {"expired", YesNo(status.expired())},
      {"account id", OrNone(status.account_id())},
      {"project id", OrNone(status.project_id())},
      {"storage error", OrNone(status.storage_error())},
      {"needs login", YesNo(status.needs_login())},
      {"refresh state", OrNone(status.refresh_state())},
      {"refresh error", OrNone(status.refresh_error())},
      {"next retry", status.next_retry_unix_ms() == 0
                         ? std::string(kNone)
                         : FormatUnixMillisUtc(status.next_retry_unix_ms())},
      {"next refresh", status.next_refresh_unix_ms() == 0
                           ? std::string(kNone)
                           : FormatUnixMillisUtc(status.next_refresh_unix_ms())},
      {"last refresh", status.last_refresh_unix_ms() == 0
                           ? std::string(kNone)
                           : FormatUnixMillisUtc(status.last_refresh_unix_ms())},
      {"synced with", status.has_sync()
                          ? absl::StrCat(status.sync().source(), " (", status.sync().path(), ")")
                          : std::string(kNone)},
  };
  if (status.has_sync()) {
    rows.emplace_back("last sync", status.sync().last_sync_unix_ms() == 0
                                      ? std::string(kNone)
                                      : FormatUnixMillisUtc(status.sync().last_sync_unix_ms()));
    rows.emplace_back("sync error", OrNone(status.sync().error()));
  }
  size_t width = 0;
  for (const auto& [name, value] : rows) width = std::max(width, name.size() + 1);
  for (const auto& [name, value] : rows) {
    out << Padded(absl::StrCat(name, ":"), width) << "  " << value << "\n";
  }
}

nlohmann::ordered_json StatusToJson(const v1::AuthStatus& status) {
  return {
      {"provider", status.provider()},
      {"account", status.account()},
      {"default_account", status.default_account()},
      {"configured", status.configured()},
      {"source", SourceToJson(status.source())},
      {"label", status.label()},
      {"stored_type", StoredTypeName(status.stored_type())},
      {"env_var", status.env_var()},
      {"runtime_override", status.runtime_override()},
      {"expires_unix_ms", status.expires_unix_ms()},
      {"expired", status.expired()},
      {"account_id", status.account_id()},
      {"project_id", status.project_id()},
      {"storage_error", status.storage_error()},
      {"needs_login", status.needs_login()},
      {"refresh_state", status.refresh_state()},
      {"refresh_error", status.refresh_error()},
      {"next_retry_unix_ms", status.next_retry_unix_ms()},
      {"last_refresh_unix_ms", status.last_refresh_unix_ms()},
      {"next_refresh_unix_ms", status.next_refresh_unix_ms()},
      {"sync", status.has_sync() ? nlohmann::ordered_json{{"source", status.sync().source()},
                                                          {"path", status.sync().path()},
                                                          {"last_sync_unix_ms",
                                                           status.sync().last_sync_unix_ms()},
                                                          {"error", status.sync().error()}}
                                 : nlohmann::ordered_json()},
  };
}

nlohmann::ordered_json ProvidersToJson(const v1::ListProvidersResponse& providers) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const v1::ProviderInfo& p : providers.providers()) {
    list.push_back({
        {"id", p.id()},
        {"display_name", p.display_name()},
        {"kind", IsOAuth(p) ? "oauth" : "api_key"},
        {"builtin", p.builtin()},
        {"aliases", std::vector<std::string>(p.aliases().begin(), p.aliases().end())},
        {"status", StatusToJson(p.status())},
    });
    nlohmann::ordered_json accounts = nlohmann::ordered_json::array();
    for (const v1::AccountInfo& account : p.accounts()) {
      accounts.push_back({{"name", account.name()},
                          {"default", account.is_default()},
                          {"status", StatusToJson(account.status())}});
    }
    list.back()["accounts"] = std::move(accounts);
  }
  return {{"providers", std::move(list)}};
}

nlohmann::ordered_json ApiKeyToJson(absl::string_view provider, const ApiKey& key) {
  nlohmann::ordered_json out;
  out["provider"] = key.provider.empty() ? std::string(provider) : key.provider;
  out["key"] = key.key;
  out["source"] = SourceName(key.source);
  out["label"] = key.label;
  out["expires_unix_ms"] = key.expires_unix_ms;
  switch (key.kind) {
    case ApiKeyKind::kApiKey:
      out["kind"] = "api_key";
      break;
    case ApiKeyKind::kOAuthAccessToken:
      out["kind"] = "oauth_access_token";
      break;
    case ApiKeyKind::kUnknown:
      out["kind"] = nullptr;
      break;
  }
  out["account_id"] = key.account_id;
  out["project_id"] = key.project_id;
  out["base_url"] = key.base_url;
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();
  for (const auto& [name, value] : key.headers) headers[name] = value;
  out["headers"] = std::move(headers);
  return out;
}

void PrintJson(const nlohmann::ordered_json& value, std::ostream& out) {
  out << value.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

}  // namespace operator_auth::cli
