#include "daemon/oauth/authd_config_file.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/provider_id.h"
#include "daemon/oauth/endpoint_url.h"

namespace operator_auth {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxConfigBytes = 1024 * 1024;
constexpr size_t kMaxUserAgentBytes = 256;

class FieldReader {
 public:
  FieldReader(const Json& object, std::string where) : object_(object), where_(std::move(where)) {}

  absl::Status String(const char* key, std::string& out) const {
    auto it = object_.find(key);
    if (it == object_.end()) return absl::OkStatus();
    if (!it->is_string()) return Error(key, "must be a string");
    out = it->get<std::string>();
    return absl::OkStatus();
  }

  absl::Status Url(const char* key, std::string& out) const {
    if (!object_.contains(key)) return absl::OkStatus();
    std::string value;
    if (absl::Status s = String(key, value); !s.ok()) return s;
    if (!value.empty()) {
      absl::Status rule = CheckEndpointUrl(value);
      if (!rule.ok()) return Error(key, std::string(rule.message()));
    }
    out = std::move(value);
    return absl::OkStatus();
  }

  // Printable ASCII, since it goes into a request header as it is.
  absl::Status UserAgent(const char* key, std::string& out) const {
    std::string value;
    if (absl::Status s = String(key, value); !s.ok()) return s;
    if (value.size() > kMaxUserAgentBytes) return Error(key, "must be at most 256 bytes");
    for (char c : value) {
      if (c < 0x20 || c > 0x7E) return Error(key, "must be printable ASCII");
    }
    if (object_.contains(key)) out = std::move(value);
    return absl::OkStatus();
  }

  // A Google Cloud project id: 6-30 of [a-z0-9-] (Google's rule), or a legacy domain-scoped
  // "example.com:project". Spliced into JSON only, but a typo is better caught at start.
  absl::Status ProjectId(const char* key, std::string& out) const {
    std::string value;
    if (absl::Status s = String(key, value); !s.ok()) return s;
    bool valid = !value.empty() && value.size() <= 100;
    for (char c : value) {
      valid = valid && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                        c == '.' || c == ':' || c == '_');
    }
    if (object_.contains(key)) {
      if (!valid) return Error(key, "must be a Google Cloud project id");
      out = std::move(value);
    }
    return absl::OkStatus();
  }

  // A whole number in [min, max]; the range is part of the error.
  absl::Status WholeNumber(const char* key, int64_t min, int64_t max, int64_t& out) const {
    auto it = object_.find(key);
    if (it == object_.end()) return absl::OkStatus();
    if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > max) {
      return Error(key, absl::StrCat("must be a whole number from ", min, " to ", max));
    }
    out = it->get<int64_t>();
    return absl::OkStatus();
  }

  absl::Status Error(const std::string& key, const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat(where_, ".", key, ": ", what));
  }

  const Json& object() const { return object_; }

 private:
  const Json& object_;
  std::string where_;
};

absl::Status ApplyOverrides(const Json& fields, const std::string& where, OAuthProviderConfig& c) {
  if (!fields.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
  static const char* const kKnown[] = {"name",
                                       "flow",
                                       "authorize_url",
                                       "token_url",
                                       "device_authorization_url",
                                       "revocation_url",
                                       "client_id",
                                       "client_secret",
                                       "scopes",
                                       "redirect_uri",
                                       "token_request_format",
                                       "copilot_token_url",
                                       "copilot_api_url",
                                       "default_domain",
                                       "request_timeout_ms",
                                       "connect_timeout_ms",
                                       "user_agent",
                                       "code_assist_url",
                                       "project_id",
                                       "code_assist_poll_interval_ms",
                                       "disabled"};
  for (const auto& [key, value] : fields.items()) {
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": unknown key"));
  }
  FieldReader r(fields, where);
  for (absl::Status s :
       {r.String("name", c.name), r.Url("authorize_url", c.authorize_url),
        r.Url("token_url", c.token_url),
        r.Url("device_authorization_url", c.device_authorization_url),
        r.Url("revocation_url", c.revocation_url), r.String("client_id", c.client_id),
        r.String("client_secret", c.client_secret), r.Url("redirect_uri", c.redirect_uri),
        r.Url("copilot_token_url", c.copilot_token_url),
        r.Url("copilot_api_url", c.copilot_api_url), r.Url("code_assist_url", c.code_assist_url),
        r.String("default_domain", c.default_domain), r.UserAgent("user_agent", c.user_agent),
        r.ProjectId("project_id", c.project_id)}) {
    if (!s.ok()) return s;
  }
  if (auto it = fields.find("flow"); it != fields.end()) {
    if (*it == "authorization_code") {
      c.flow = OAuthFlow::kAuthorizationCode;
    } else if (*it == "device_code") {
      c.flow = OAuthFlow::kDeviceCode;
    } else {
      return r.Error("flow", "must be \"authorization_code\" or \"device_code\"");
    }
  }
  if (auto it = fields.find("token_request_format"); it != fields.end()) {
    if (*it == "form") {
      c.token_request_format = TokenRequestFormat::kForm;
    } else if (*it == "json") {
      c.token_request_format = TokenRequestFormat::kJson;
    } else {
      return r.Error("token_request_format", "must be \"form\" or \"json\"");
    }
  }
  // Timeouts may be lowered, never raised past the caps: a refresh holds providers.lock for as
  // long as its request takes.
  for (absl::Status s :
       {r.WholeNumber("request_timeout_ms", 1, kMaxRequestTimeoutMs, c.request_timeout_ms),
        r.WholeNumber("connect_timeout_ms", 1, kMaxConnectTimeoutMs, c.connect_timeout_ms),
        r.WholeNumber("code_assist_poll_interval_ms", 10, 60'000,
                      c.code_assist_poll_interval_ms)}) {
    if (!s.ok()) return s;
  }
  if (auto it = fields.find("scopes"); it != fields.end()) {
    if (!it->is_array()) return r.Error("scopes", "must be an array of strings");
    c.scopes.clear();
    for (const Json& scope : *it) {
      if (!scope.is_string()) return r.Error("scopes", "must be an array of strings");
      c.scopes.push_back(scope.get<std::string>());
    }
  }
  return absl::OkStatus();
}

absl::Status CheckComplete(const OAuthProviderConfig& c, const std::string& where) {
  auto missing = [&](const char* key) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": required"));
  };
  if (c.token_url.empty()) return missing("token_url");
  if ((c.dialect == OAuthDialect::kGoogleGeminiCli ||
       c.dialect == OAuthDialect::kGoogleAntigravity) &&
      c.code_assist_url.empty()) {
    return missing("code_assist_url");
  }
  if (c.client_id.empty()) return missing("client_id");
  if (c.flow == OAuthFlow::kAuthorizationCode) {
    if (c.authorize_url.empty()) return missing("authorize_url");
    if (c.redirect_uri.empty()) return missing("redirect_uri");
  } else if (c.device_authorization_url.empty()) {
    return missing("device_authorization_url");
  }
  return absl::OkStatus();
}

absl::StatusOr<ProviderRegistry> RegistryFor(const std::vector<OAuthProviderConfig>& oauth,
                                             const ProviderAliasMap& aliases,
                                             const std::string& where) {
  std::vector<ProviderDescriptor> providers;
  for (const OAuthProviderConfig& c : oauth) {
    providers.push_back({c.id, c.name, ProviderKind::kOAuth});
  }
  for (const ProviderDescriptor& p : ProviderRegistry::BuiltIn().providers()) {
    if (p.kind == ProviderKind::kApiKey) providers.push_back(p);
  }
  absl::StatusOr<ProviderRegistry> registry =
      ProviderRegistry::Create(std::move(providers), aliases);
  if (!registry.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", registry.status().message()));
  }
  return registry;
}

absl::StatusOr<AuditConfig> ParseAudit(const Json& section, const std::string& where) {
  if (!section.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
  AuditConfig audit;
  for (const auto& [key, value] : section.items()) {
    if (key != "enabled" && key != "max_bytes") {
      return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": unknown key"));
    }
  }
  if (auto it = section.find("enabled"); it != section.end()) {
    if (!it->is_boolean()) {
      return absl::InvalidArgumentError(where + ".enabled: must be true or false");
    }
    audit.enabled = it->get<bool>();
  }
  FieldReader reader(section, where);
  if (absl::Status s = reader.WholeNumber("max_bytes", AuditConfig::kMinMaxBytes,
                                          AuditConfig::kMaxMaxBytes, audit.max_bytes);
      !s.ok()) {
    return s;
  }
  return audit;
}

absl::StatusOr<ProviderAliasMap> ParseAliases(const Json& section, const std::string& where) {
  if (!section.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
  ProviderAliasMap aliases;
  for (const auto& [alias, target] : section.items()) {
    if (!target.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".", alias, ": must be a provider id (a string)"));
    }
    aliases.emplace(alias, target.get<std::string>());
  }
  return aliases;
}

absl::StatusOr<ClientRule> ParseClientRule(const Json& fields, const std::string& where) {
  if (!fields.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
  for (const auto& [key, value] : fields.items()) {
    if (key != "name" && key != "exe" && key != "unit" && key != "allow") {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".", key, ": unknown key (a rule has name, exe, unit and allow)"));
    }
  }
  ClientRule rule;
  FieldReader r(fields, where);
  for (absl::Status s :
       {r.String("name", rule.name), r.String("exe", rule.exe), r.String("unit", rule.unit)}) {
    if (!s.ok()) return s;
  }
  if (fields.contains("exe") && rule.exe.empty()) return r.Error("exe", "must not be empty");
  if (fields.contains("unit") && rule.unit.empty()) return r.Error("unit", "must not be empty");
  auto allow = fields.find("allow");
  if (allow == fields.end()) {
    return r.Error("allow", "required (an array; [] allows nothing)");
  }
  if (!allow->is_array()) return r.Error("allow", "must be an array of strings");
  for (const Json& entry : *allow) {
    if (!entry.is_string()) return r.Error("allow", "must be an array of strings");
    rule.allow.push_back(entry.get<std::string>());
  }
  return rule;
}

absl::StatusOr<ClientRules> ParseClientRules(const Json& root, const ProviderRegistry& registry,
                                             const std::string& source) {
  ClientsDefault default_decision = ClientsDefault::kAllow;
  if (auto it = root.find("clients_default"); it != root.end()) {
    if (*it == "allow") {
      default_decision = ClientsDefault::kAllow;
    } else if (*it == "deny") {
      default_decision = ClientsDefault::kDeny;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": clients_default: must be \"allow\" or \"deny\""));
    }
  }
  std::vector<ClientRule> rules;
  if (auto section = root.find("clients"); section != root.end()) {
    if (!section->is_array()) {
      return absl::InvalidArgumentError(source + ": clients: must be an array of rules");
    }
    for (size_t i = 0; i < section->size(); ++i) {
      absl::StatusOr<ClientRule> rule =
          ParseClientRule((*section)[i], absl::StrCat(source, ": clients[", i, "]"));
      if (!rule.ok()) return rule.status();
      rules.push_back(*std::move(rule));
    }
  }
  absl::StatusOr<ClientRules> compiled =
      ClientRules::Create(std::move(rules), default_decision, registry);
  if (!compiled.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", compiled.status().message()));
  }
  return compiled;
}

}  // namespace

absl::StatusOr<DaemonConfig> ParseDaemonConfig(const std::string& text, const std::string& source) {
  std::vector<OAuthProviderConfig> providers = BuiltInOAuthProviders();
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not valid JSON (error at byte ", e.byte, ")"));
  } catch (const Json::out_of_range&) {
    // A number too large for a double (1e400) is out_of_range 406, not a parse_error.
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not valid JSON (a number is out of range)"));
  }
  if (!root.is_object()) return absl::InvalidArgumentError(source + ": must be a JSON object");
  for (const auto& [key, value] : root.items()) {
    if (key != "oauth_providers" && key != "aliases" && key != "audit" && key != "clients" &&
        key != "clients_default") {
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", key, ": unknown key"));
    }
  }
  AuditConfig audit;
  if (auto section = root.find("audit"); section != root.end()) {
    absl::StatusOr<AuditConfig> parsed = ParseAudit(*section, source + ": audit");
    if (!parsed.ok()) return parsed.status();
    audit = *parsed;
  }
  ProviderAliasMap aliases;
  if (auto section = root.find("aliases"); section != root.end()) {
    absl::StatusOr<ProviderAliasMap> parsed = ParseAliases(*section, source + ": aliases");
    if (!parsed.ok()) return parsed.status();
    aliases = *std::move(parsed);
  }
  auto section = root.find("oauth_providers");
  if (section != root.end()) {
    const std::string where = source + ": oauth_providers";
    if (!section->is_object()) return absl::InvalidArgumentError(where + ": must be an object");
    for (const auto& [id, fields] : section->items()) {
      const std::string provider_where = absl::StrCat(where, ".", id);
      if (absl::Status s = ValidateProviderId(id); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(provider_where, ": ", s.message()));
      }
      auto target = std::find_if(providers.begin(), providers.end(),
                                 [&id](const OAuthProviderConfig& p) { return p.id == id; });
      if (fields.is_object() && fields.contains("disabled")) {
        const Json& disabled = fields["disabled"];
        if (!disabled.is_boolean()) {
          return absl::InvalidArgumentError(provider_where + ".disabled: must be true or false");
        }
        if (disabled.get<bool>()) {
          if (target != providers.end()) providers.erase(target);
          continue;
        }
      }
      if (target == providers.end()) {
        OAuthProviderConfig custom;
        custom.id = id;
        custom.name = id;
        providers.push_back(std::move(custom));
        target = providers.end() - 1;
      }
      if (absl::Status s = ApplyOverrides(fields, provider_where, *target); !s.ok()) return s;
      if (absl::Status s = CheckComplete(*target, provider_where); !s.ok()) return s;
    }
  }
  absl::StatusOr<ProviderRegistry> registry = RegistryFor(providers, aliases, source + ": aliases");
  if (!registry.ok()) return registry.status();
  absl::StatusOr<ClientRules> clients = ParseClientRules(root, *registry, source);
  if (!clients.ok()) return clients.status();
  DaemonConfig config;
  config.oauth_providers = std::move(providers);
  config.registry = *std::move(registry);
  config.audit = audit;
  config.client_rules = *std::move(clients);
  return config;
}

absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path, bool required,
                                              const TrustBoundary& boundary) {
  absl::StatusOr<std::string> text = ReadTrustedFile(path, kMaxConfigBytes, boundary);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) {
      if (!required) return ParseDaemonConfig("{}", path);
      return absl::NotFoundError(absl::StrCat(path, ": does not exist"));
    }
    return text.status();
  }
  return ParseDaemonConfig(*text, path);
}

}  // namespace operator_auth
