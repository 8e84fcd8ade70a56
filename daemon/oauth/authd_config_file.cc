#include "daemon/oauth/authd_config_file.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
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

// One of fleet.etcd_endpoints, as EtcdKv will dial it.
struct FleetEndpoint {
  bool https = false;
  std::string host;  // lower-cased, brackets kept for IPv6 ("[::1]"), as IsLoopbackHost wants
  int port = 0;
};

// A DNS name or dotted quad, or an IPv6 address in brackets. Nothing else may stand before the
// port: the host checked for loopback below must be the one gRPC dials, and a "user@" or a "#"
// in it would make the two differ ("http://127.0.0.1#@etcd.example:2379").
bool IsEndpointHost(absl::string_view host) {
  if (host.empty()) return false;
  if (absl::ConsumePrefix(&host, "[")) {
    if (!absl::ConsumeSuffix(&host, "]") || host.empty()) return false;
    return std::all_of(host.begin(), host.end(), [](char c) {
      return absl::ascii_isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

bool IsDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// The grammar of ParseEndpoint in daemon/fleet/etcd_kv.cc, so that what passes here also opens
// there: "http://" or "https://" (lower case), HOST, ":", PORT from 1 to 65535, at most one "/"
// after it. Stricter than EtcdKv on HOST (IsEndpointHost) and on PORT (digits only).
absl::StatusOr<FleetEndpoint> ParseFleetEndpoint(absl::string_view url) {
  const absl::Status shape = absl::InvalidArgumentError(
      "must be http://HOST:PORT or https://HOST:PORT, with nothing after the port");
  FleetEndpoint endpoint;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "https://")) {
    endpoint.https = true;
  } else if (!absl::ConsumePrefix(&rest, "http://")) {
    return shape;
  }
  absl::ConsumeSuffix(&rest, "/");
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) return shape;
  const absl::string_view host = rest.substr(0, colon);
  const absl::string_view port = rest.substr(colon + 1);
  if (!IsEndpointHost(host) || !IsDigits(port)) return shape;
  if (port.size() > 5 || !absl::SimpleAtoi(port, &endpoint.port) || endpoint.port < 1 ||
      endpoint.port > 65535) {
    return absl::InvalidArgumentError("the port must be from 1 to 65535");
  }
  endpoint.host = absl::AsciiStrToLower(host);
  return endpoint;
}

// fleet.name is spliced into every etcd key (/operator-authd/<name>/...): no "/" to reach into
// another fleet's keys, no leading "." or "-", no upper case to tell "Home" from "home" by.
bool IsFleetName(absl::string_view name) {
  auto lower_or_digit = [](char c) {
    return absl::ascii_islower(static_cast<unsigned char>(c)) ||
           absl::ascii_isdigit(static_cast<unsigned char>(c));
  };
  if (name.empty() || name.size() > 63 || !lower_or_digit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return lower_or_digit(c) || c == '_' || c == '.' || c == '-'; });
}

// The daemon runs from whatever directory it was started in (a systemd unit: "/"), so a
// relative path would name a different file depending on how it was started.
bool IsAbsolutePath(const std::string& path) { return absl::StartsWith(path, "/"); }

absl::StatusOr<FleetTlsConfig> ParseFleetTls(const Json& section, const std::string& where) {
  if (!section.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
  for (const auto& [key, value] : section.items()) {
    if (key != "ca_file" && key != "cert_file" && key != "key_file") {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".", key, ": unknown key (tls has ca_file, cert_file, key_file)"));
    }
  }
  FleetTlsConfig tls;
  FieldReader r(section, where);
  for (const auto& [key, out] : {std::pair<const char*, std::string*>{"ca_file", &tls.ca_file},
                                 std::pair<const char*, std::string*>{"cert_file", &tls.cert_file},
                                 std::pair<const char*, std::string*>{"key_file", &tls.key_file}}) {
    if (!section.contains(key)) continue;
    if (absl::Status s = r.String(key, *out); !s.ok()) return s;
    if (!IsAbsolutePath(*out)) return r.Error(key, "must be an absolute path");
  }
  // A client certificate is nothing without its key, and the reverse.
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(where + ": cert_file and key_file go together");
  }
  return tls;
}

// Checked here in full, at start, so that a mistake is a clear refusal naming the key rather
// than a fleet that cannot connect.
absl::StatusOr<FleetConfig> ParseFleet(const Json& section, const std::string& where) {
  if (!section.is_object()) return absl::InvalidArgumentError(where + ": must be an object");
  for (const auto& [key, value] : section.items()) {
    if (key != "etcd_endpoints" && key != "name" && key != "key_file" && key != "tls") {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".", key, ": unknown key (fleet has etcd_endpoints, name, key_file, tls)"));
    }
  }
  FleetConfig fleet;
  FieldReader r(section, where);

  auto endpoints = section.find("etcd_endpoints");
  if (endpoints == section.end()) {
    return r.Error("etcd_endpoints",
                   "required (an array of http://HOST:PORT or https://HOST:PORT)");
  }
  if (!endpoints->is_array()) {
    return r.Error("etcd_endpoints", "must be an array of http://HOST:PORT or https://HOST:PORT");
  }
  if (endpoints->empty()) return r.Error("etcd_endpoints", "must not be empty");
  if (endpoints->size() > FleetConfig::kMaxEndpoints) {
    return r.Error("etcd_endpoints",
                   absl::StrCat("at most ", FleetConfig::kMaxEndpoints, " endpoints"));
  }
  std::vector<FleetEndpoint> parsed;
  std::optional<size_t> first_https;
  for (size_t i = 0; i < endpoints->size(); ++i) {
    const std::string key = absl::StrCat("etcd_endpoints[", i, "]");
    const Json& value = (*endpoints)[i];
    if (!value.is_string()) return r.Error(key, "must be a string");
    std::string url = value.get<std::string>();
    absl::StatusOr<FleetEndpoint> endpoint = ParseFleetEndpoint(url);
    if (!endpoint.ok()) return r.Error(key, std::string(endpoint.status().message()));
    // Values in etcd are sealed, but the seal binds the etcd key, not the revision: anyone on
    // the path of a plain connection could put back an older sealed document (a spent refresh
    // token) and every daemon would open it. Loopback is the one path no one else is on.
    if (!endpoint->https && !IsLoopbackHost(endpoint->host)) {
      return r.Error(key,
                     "http:// only to a loopback host (127.0.0.1, ::1, localhost); use https:// "
                     "with \"tls\" for other hosts");
    }
    // The same member twice (even once http:// and once https://) is a typo, and would make a
    // call that finds it down try it again.
    for (size_t j = 0; j < parsed.size(); ++j) {
      if (parsed[j].host == endpoint->host && parsed[j].port == endpoint->port) {
        return r.Error(key, absl::StrCat("duplicate of [", j, "]"));
      }
    }
    if (endpoint->https && !first_https) first_https = i;
    parsed.push_back(*std::move(endpoint));
    fleet.etcd_endpoints.push_back(std::move(url));
  }

  if (!section.contains("name")) {
    return r.Error("name", "required (1 to 63 of a-z, 0-9, '_', '.', '-')");
  }
  if (absl::Status s = r.String("name", fleet.name); !s.ok()) return s;
  if (!IsFleetName(fleet.name)) {
    return r.Error("name",
                   "must be 1 to 63 of a-z, 0-9, '_', '.' and '-', the first a letter or digit");
  }

  if (!section.contains("key_file")) {
    return r.Error("key_file", "required (write one with operatorctl fleet keygen PATH)");
  }
  if (absl::Status s = r.String("key_file", fleet.key_file); !s.ok()) return s;
  if (!IsAbsolutePath(fleet.key_file)) return r.Error("key_file", "must be an absolute path");

  if (auto tls = section.find("tls"); tls != section.end()) {
    absl::StatusOr<FleetTlsConfig> parsed_tls = ParseFleetTls(*tls, where + ".tls");
    if (!parsed_tls.ok()) return parsed_tls.status();
    if (!first_https) {
      return absl::InvalidArgumentError(where + ".tls: given, but no endpoint is https://");
    }
    fleet.tls = *std::move(parsed_tls);
  }
  // No fallback to the system's roots: a fleet's etcd is the user's own, with its own CA, and a
  // certificate any public CA would sign for the name is not one to trust with the credentials.
  if (first_https && fleet.tls.ca_file.empty()) {
    return r.Error(absl::StrCat("etcd_endpoints[", *first_https, "]"),
                   "https:// needs \"tls\" with at least ca_file");
  }
  return fleet;
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
        key != "clients_default" && key != "fleet") {
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", key, ": unknown key"));
    }
  }
  AuditConfig audit;
  if (auto section = root.find("audit"); section != root.end()) {
    absl::StatusOr<AuditConfig> parsed = ParseAudit(*section, source + ": audit");
    if (!parsed.ok()) return parsed.status();
    audit = *parsed;
  }
  std::optional<FleetConfig> fleet;
  if (auto section = root.find("fleet"); section != root.end()) {
    absl::StatusOr<FleetConfig> parsed = ParseFleet(*section, source + ": fleet");
    if (!parsed.ok()) return parsed.status();
    fleet = *std::move(parsed);
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
  config.fleet = std::move(fleet);
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
