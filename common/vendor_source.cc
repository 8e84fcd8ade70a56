#include "common/vendor_source.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/default_paths.h"

namespace operator_auth {
namespace {

struct Named {
  VendorSource source;
  absl::string_view name;
};
constexpr Named kSources[] = {{VendorSource::kClaudeCode, "claude-code"},
                              {VendorSource::kCodex, "codex"},
                              {VendorSource::kGeminiCli, "gemini-cli"},
                              {VendorSource::kPi, "pi"}};

// $name when set and not empty, else `fallback`.
std::string EnvOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value == nullptr || *value == '\0' ? fallback : std::string(value);
}

}  // namespace

absl::string_view VendorSourceName(VendorSource source) {
  for (const Named& n : kSources) {
    if (n.source == source) return n.name;
  }
  return "unknown";
}

absl::StatusOr<VendorSource> ParseVendorSource(absl::string_view name) {
  for (const Named& n : kSources) {
    if (n.name == name) return n.source;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown source \"", name, "\": expected claude-code, codex, gemini-cli or pi"));
}

std::vector<VendorSource> AllVendorSources() {
  std::vector<VendorSource> out;
  for (const Named& n : kSources) out.push_back(n.source);
  return out;
}

std::string VendorConfigDirectory(VendorSource source) {
  switch (source) {
    case VendorSource::kClaudeCode:
      return EnvOr("CLAUDE_CONFIG_DIR", UserHomeDirectory() + "/.claude");
    case VendorSource::kCodex:
      return EnvOr("CODEX_HOME", UserHomeDirectory() + "/.codex");
    case VendorSource::kGeminiCli:
      return EnvOr("GEMINI_CLI_HOME", UserHomeDirectory()) + "/.gemini";
    case VendorSource::kPi:
      return EnvOr("PI_CODING_AGENT_DIR", UserHomeDirectory() + "/.pi/agent");
  }
  return std::string();
}

std::string DefaultVendorCredentialPath(VendorSource source) {
  const char* file = source == VendorSource::kClaudeCode  ? ".credentials.json"
                     : source == VendorSource::kGeminiCli ? "oauth_creds.json"
                                                          : "auth.json";
  return absl::StrCat(VendorConfigDirectory(source), "/", file);
}

}  // namespace operator_auth
