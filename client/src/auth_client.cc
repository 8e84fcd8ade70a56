#include "operator_auth/auth_client.h"

#include <cstdlib>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/default_paths.h"
#include "common/provider_id.h"

namespace operator_auth {
namespace {

constexpr char kUnreachablePayload[] = "type.operator-auth/daemon-unreachable";

std::optional<std::string> CallerEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

ApiKeySource FromProto(v1::CredentialSource source) {
  switch (source) {
    case v1::CREDENTIAL_SOURCE_RUNTIME:
      return ApiKeySource::kDaemonRuntime;
    case v1::CREDENTIAL_SOURCE_ENV:
      return ApiKeySource::kDaemonEnv;
    default:
      return ApiKeySource::kDaemonStored;
  }
}

}  // namespace

AuthClient::AuthClient(AuthClientOptions options)
    : socket_path_(options.socket_path.empty() ? DefaultSocketPath() : options.socket_path),
      options_(std::move(options)) {
  grpc::ChannelArguments args;
  // A local daemon restarts quickly: do not wait the default back-off of up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  channel_ =
      grpc::CreateCustomChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::AuthService::NewStub(channel_);
}

template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> AuthClient::Call(Method method, const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.deadline);
  Response response;
  grpc::Status status = ((*stub_).*method)(&context, request, &response);
  if (status.ok()) return response;
  const bool transport_failure = (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                                  status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) &&
                                 channel_->GetState(false) != GRPC_CHANNEL_READY;
  if (transport_failure) {
    absl::Status unreachable = absl::UnavailableError(absl::StrCat(
        "operator-authd is not reachable at ", socket_path_, ": ", status.error_message()));
    unreachable.SetPayload(kUnreachablePayload, absl::Cord("1"));
    return unreachable;
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<ApiKey> AuthClient::GetApiKey(absl::string_view provider) {
  v1::GetApiKeyRequest request;
  request.set_provider(std::string(provider));
  absl::StatusOr<v1::GetApiKeyResponse> response =
      Call<v1::GetApiKeyRequest, v1::GetApiKeyResponse>(&v1::AuthService::Stub::GetApiKey, request);
  if (response.ok()) {
    return ApiKey{std::move(*response->mutable_key()), FromProto(response->source()),
                  response->label(), response->expires_unix_ms()};
  }
  const bool unreachable = IsDaemonUnreachable(response.status());
  if (!options_.env_fallback || (!unreachable && !absl::IsNotFound(response.status())) ||
      !ValidateProviderId(provider).ok()) {
    return response.status();
  }
  const std::string env_var = ApiKeyEnvVarName(provider);
  if (std::optional<std::string> value = CallerEnv(env_var)) {
    return ApiKey{*std::move(value), ApiKeySource::kCallerEnv,
                  absl::StrCat(env_var, unreachable ? " (daemon unreachable)"
                                                    : " (daemon has no credential)"),
                  0};
  }
  if (unreachable) {
    absl::Status status(response.status().code(),
                        absl::StrCat(response.status().message(), "; and ", env_var,
                                     " is not set in this process"));
    status.SetPayload(kUnreachablePayload, absl::Cord("1"));
    return status;
  }
  return response.status();
}

absl::StatusOr<v1::AuthStatus> AuthClient::GetAuthStatus(absl::string_view provider) {
  v1::GetAuthStatusRequest request;
  request.set_provider(std::string(provider));
  return Call<v1::GetAuthStatusRequest, v1::AuthStatus>(&v1::AuthService::Stub::GetAuthStatus,
                                                        request);
}

absl::StatusOr<v1::ListProvidersResponse> AuthClient::ListProviders() {
  return Call<v1::ListProvidersRequest, v1::ListProvidersResponse>(
      &v1::AuthService::Stub::ListProviders, v1::ListProvidersRequest());
}

absl::StatusOr<v1::SetApiKeyResponse> AuthClient::SetApiKey(absl::string_view provider,
                                                            absl::string_view key) {
  v1::SetApiKeyRequest request;
  request.set_provider(std::string(provider));
  request.set_key(std::string(key));
  return Call<v1::SetApiKeyRequest, v1::SetApiKeyResponse>(&v1::AuthService::Stub::SetApiKey,
                                                           request);
}

absl::StatusOr<v1::SetRuntimeApiKeyResponse> AuthClient::SetRuntimeApiKey(
    absl::string_view provider, absl::string_view key) {
  v1::SetRuntimeApiKeyRequest request;
  request.set_provider(std::string(provider));
  request.set_key(std::string(key));
  return Call<v1::SetRuntimeApiKeyRequest, v1::SetRuntimeApiKeyResponse>(
      &v1::AuthService::Stub::SetRuntimeApiKey, request);
}

absl::StatusOr<v1::LogoutResponse> AuthClient::Logout(absl::string_view provider) {
  v1::LogoutRequest request;
  request.set_provider(std::string(provider));
  return Call<v1::LogoutRequest, v1::LogoutResponse>(&v1::AuthService::Stub::Logout, request);
}

absl::StatusOr<v1::DrainErrorsResponse> AuthClient::DrainErrors() {
  return Call<v1::DrainErrorsRequest, v1::DrainErrorsResponse>(&v1::AuthService::Stub::DrainErrors,
                                                               v1::DrainErrorsRequest());
}

std::unique_ptr<grpc::ClientReaderWriter<v1::LoginRequest, v1::LoginEvent>>
AuthClient::OpenLogin(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(6));
  return stub_->Login(&context);
}

bool IsDaemonUnreachable(const absl::Status& status) {
  return status.GetPayload(kUnreachablePayload).has_value();
}

}  // namespace operator_auth
