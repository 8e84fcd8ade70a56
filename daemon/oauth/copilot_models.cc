#include "daemon/oauth/copilot_models.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "daemon/oauth/token_reply.h"

namespace operator_auth {
namespace {

constexpr size_t kMaxModelIdBytes = 128;

// A model id is spliced into a URL path.
bool IsModelId(const std::string& id) {
  if (id.empty() || id.size() > kMaxModelIdBytes || id.find("..") != std::string::npos) {
    return false;
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

HttpRequest CopilotRequest(const std::string& method, const std::string& url,
                           const std::string& token, const HeaderList& headers) {
  HttpRequest request;
  request.method = method;
  request.url = url;
  request.headers = {{"Accept", "application/json"}, {"Authorization", "Bearer " + token}};
  for (const auto& h : headers) request.headers.push_back(h);
  return request;
}

}  // namespace

absl::StatusOr<CopilotModelPolicies> EnableUnconfiguredCopilotModels(
    const std::string& base_url, const std::string& copilot_token, const HeaderList& headers,
    const CopilotSender& send) {
  const std::string what = "listing the Copilot models";
  absl::StatusOr<HttpResponse> listed =
      send(CopilotRequest("GET", base_url + "/models", copilot_token, headers), what);
  if (!listed.ok()) return listed.status();
  absl::StatusOr<nlohmann::json> body = ParseJsonReply(*listed, what);
  if (!body.ok()) return body.status();
  auto data = body->find("data");
  if (data == body->end() || !data->is_array()) {
    return absl::UnavailableError(what + " failed: the reply has no \"data\" list");
  }
  CopilotModelPolicies result;
  for (const nlohmann::json& model : *data) {
    if (static_cast<size_t>(result.listed) >= kMaxCopilotModels) break;
    ++result.listed;
    if (!model.is_object()) continue;
    auto id = model.find("id");
    auto policy = model.find("policy");
    if (id == model.end() || !id->is_string() || policy == model.end() || !policy->is_object() ||
        policy->value("state", "") != "unconfigured") {
      continue;
    }
    const std::string model_id = id->get<std::string>();
    if (!IsModelId(model_id)) continue;
    HttpRequest request = CopilotRequest(
        "POST", absl::StrCat(base_url, "/models/", model_id, "/policy"), copilot_token, headers);
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back("openai-intent", "chat-policy");
    request.headers.emplace_back("x-interaction-type", "chat-policy");
    request.body = R"({"state":"enabled"})";
    absl::StatusOr<HttpResponse> enabled =
        send(std::move(request), absl::StrCat("enabling the Copilot model ", model_id));
    if (enabled.ok() && enabled->status >= 200 && enabled->status < 300) {
      result.enabled.push_back(model_id);
    } else {
      result.failed.push_back(model_id);
    }
  }
  return result;
}

}  // namespace operator_auth
