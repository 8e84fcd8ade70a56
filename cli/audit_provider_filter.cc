#include "cli/audit_provider_filter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/core/provider_registry.h"

namespace operator_auth::cli {

AuditProviderFilter ResolveAuditProvider(
    absl::string_view name,
    absl::FunctionRef<absl::StatusOr<v1::ListProvidersResponse>()> ask_daemon) {
  const ProviderRegistry& built_in = ProviderRegistry::BuiltIn();
  if (built_in.Find(name) != nullptr || built_in.aliases().contains(name)) {
    return {built_in.Canonical(name), ""};
  }
  absl::StatusOr<v1::ListProvidersResponse> providers = ask_daemon();
  if (!providers.ok()) {
    return {std::string(name),
            absl::StrCat("cannot ask the daemon for the aliases in authd.json (",
                         providers.status().message(), "); taking '", name, "' as a provider id")};
  }
  for (const v1::ProviderInfo& provider : providers->providers()) {
    if (provider.id() == name || std::find(provider.aliases().begin(), provider.aliases().end(),
                                           name) != provider.aliases().end()) {
      return {provider.id(), ""};
    }
  }
  return {std::string(name), absl::StrCat("the daemon knows no provider or alias '", name,
                                          "'; showing the records that name it as written")};
}

}  // namespace operator_auth::cli
