#include "daemon/vendor/vendor_format.h"

namespace operator_auth {

const VendorFormat& VendorFormatFor(VendorSource source) {
  switch (source) {
    case VendorSource::kClaudeCode:
      return ClaudeCodeCredentialsFormat();
    case VendorSource::kCodex:
      return CodexAuthFormat();
    case VendorSource::kGeminiCli:
      return GeminiOAuthCredsFormat();
    case VendorSource::kPi:
      return PiAuthFormat();
  }
  return ClaudeCodeCredentialsFormat();
}

}  // namespace operator_auth
