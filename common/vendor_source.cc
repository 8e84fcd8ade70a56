#include "common/vendor_source.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

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

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// $HOME, else the passwd entry's home: the vendors' CLIs use os.homedir(), which does the same.
std::string Home() {
  std::string home = Env("HOME");
  if (!home.empty()) return home;
  passwd pw{};
  passwd* result = nullptr;
  char buf[16384];
  if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &result) == 0 && result != nullptr &&
      result->pw_dir != nullptr) {
    return result->pw_dir;
  }
  return "/";
}

std::string Under(const char* variable, const std::string& fallback_dir, const char* file) {
  std::string dir = Env(variable);
  return absl::StrCat(dir.empty() ? fallback_dir : dir, "/", file);
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

std::string DefaultVendorCredentialPath(VendorSource source) {
  switch (source) {
    case VendorSource::kClaudeCode:
      return Under("CLAUDE_CONFIG_DIR", Home() + "/.claude", ".credentials.json");
    case VendorSource::kCodex:
      return Under("CODEX_HOME", Home() + "/.codex", "auth.json");
    case VendorSource::kGeminiCli: {
      std::string home = Env("GEMINI_CLI_HOME");
      return absl::StrCat(home.empty() ? Home() : home, "/.gemini/oauth_creds.json");
    }
    case VendorSource::kPi:
      return Under("PI_CODING_AGENT_DIR", Home() + "/.pi/agent", "auth.json");
  }
  return std::string();
}

}  // namespace operator_auth
