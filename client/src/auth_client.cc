#include "operator_auth/auth_client.h"

#include <optional>

#include <grpcpp/grpcpp.h>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/default_paths.h"
#include "common/provider_id.h"
#include "daemon_channel.h"
#include "key_conversion.h"

namespace operator_auth {
namespace {

using client_internal::CallerEnv;
using client_internal::FromProto;

constexpr char kUnreachablePayload[] = "type.operator-auth/daemon-unreachable";

}  // namespace

AuthClient::AuthClient(AuthClientOptions options)
    : socket_path_(options.socket_path.empty() ? DefaultSocketPath() : options.socket_path),
      options_(std::move(options)) {
  if (options_.account.empty()) {
    options_.account = client_internal::CallerEnv("OPERATOR_AUTH_ACCOUNT").value_or("");
  }
  channel_ = client_internal::DaemonChannel(socket_path_);
  stub_ = v1::AuthService::NewStub(channel_);
  channel_stub_ = v1::ChannelService::NewStub(channel_);
  daemon_stub_ = v1::DaemonService::NewStub(channel_);
}

template <typename Request, typename Response, typename Stub, typename Method>
absl::StatusOr<Response> AuthClient::Call(Stub& stub, Method method, const Request& request) {
  if (absl::Status peer = client_internal::CheckDaemonPeer(*channel_, socket_path_); !peer.ok()) {
    if (absl::IsUnavailable(peer)) peer.SetPayload(kUnreachablePayload, absl::Cord("1"));
    return peer;
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.deadline);
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
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
  NameAccount(request);
  absl::StatusOr<v1::GetApiKeyResponse> response =
      Call<v1::GetApiKeyRequest, v1::GetApiKeyResponse>(*stub_, &v1::AuthService::Stub::GetApiKey,
                                                        request);
  if (response.ok()) {
    return client_internal::ApiKeyFrom(*response);
  }
  const bool unreachable = IsDaemonUnreachable(response.status());
  // The caller's {ID}_API_KEY is one key per provider: it stands in for the default account only.
  if (!options_.env_fallback || (!unreachable && !absl::IsNotFound(response.status())) ||
      !ValidateProviderId(provider).ok() || !request.account().empty()) {
    return response.status();
  }
  const std::string env_var = ApiKeyEnvVarName(provider);
  if (std::optional<std::string> value = CallerEnv(env_var)) {
    ApiKey key;
    key.key = *std::move(value);
    key.source = ApiKeySource::kCallerEnv;
    key.label = absl::StrCat(env_var, unreachable ? " (daemon unreachable)"
                                                  : " (daemon has no credential)");
    return key;
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
  NameAccount(request);
  return Call<v1::GetAuthStatusRequest, v1::AuthStatus>(
      *stub_, &v1::AuthService::Stub::GetAuthStatus, request);
}

absl::StatusOr<v1::ListProvidersResponse> AuthClient::ListProviders() {
  return Call<v1::ListProvidersRequest, v1::ListProvidersResponse>(
      *stub_, &v1::AuthService::Stub::ListProviders, v1::ListProvidersRequest());
}

absl::StatusOr<v1::SetApiKeyResponse> AuthClient::SetApiKey(absl::string_view provider,
                                                            absl::string_view key) {
  v1::SetApiKeyRequest request;
  request.set_provider(std::string(provider));
  NameAccount(request);
  request.set_key(std::string(key));
  return Call<v1::SetApiKeyRequest, v1::SetApiKeyResponse>(
      *stub_, &v1::AuthService::Stub::SetApiKey, request);
}

absl::StatusOr<v1::SetRuntimeApiKeyResponse> AuthClient::SetRuntimeApiKey(
    absl::string_view provider, absl::string_view key) {
  v1::SetRuntimeApiKeyRequest request;
  request.set_provider(std::string(provider));
  NameAccount(request);
  request.set_key(std::string(key));
  return Call<v1::SetRuntimeApiKeyRequest, v1::SetRuntimeApiKeyResponse>(
      *stub_, &v1::AuthService::Stub::SetRuntimeApiKey, request);
}

absl::StatusOr<v1::LogoutResponse> AuthClient::Logout(absl::string_view provider) {
  v1::LogoutRequest request;
  request.set_provider(std::string(provider));
  NameAccount(request);
  return Call<v1::LogoutRequest, v1::LogoutResponse>(*stub_, &v1::AuthService::Stub::Logout,
                                                     request);
}

absl::StatusOr<v1::DrainErrorsResponse> AuthClient::DrainErrors() {
  return Call<v1::DrainErrorsRequest, v1::DrainErrorsResponse>(
      *stub_, &v1::AuthService::Stub::DrainErrors, v1::DrainErrorsRequest());
}

absl::StatusOr<v1::ImportLoginsResponse> AuthClient::ImportLogins(absl::string_view source,
                                                                  absl::string_view path,
                                                                  bool keep_in_sync) {
  v1::ImportLoginsRequest request;
  request.set_source(std::string(source));
  request.set_path(std::string(path));
  request.set_keep_in_sync(keep_in_sync);
  request.set_account(options_.account);
  return Call<v1::ImportLoginsRequest, v1::ImportLoginsResponse>(
      *stub_, &v1::AuthService::Stub::ImportLogins, request);
}

absl::StatusOr<v1::UnlinkVendorResponse> AuthClient::UnlinkVendor(absl::string_view source) {
  v1::UnlinkVendorRequest request;
  request.set_source(std::string(source));
  return Call<v1::UnlinkVendorRequest, v1::UnlinkVendorResponse>(
      *stub_, &v1::AuthService::Stub::UnlinkVendor, request);
}

absl::StatusOr<v1::SetDefaultAccountResponse> AuthClient::SetDefaultAccount(
    absl::string_view provider, absl::string_view account) {
  v1::SetDefaultAccountRequest request;
  request.set_provider(std::string(provider));
  request.set_account(std::string(account));
  return Call<v1::SetDefaultAccountRequest, v1::SetDefaultAccountResponse>(
      *stub_, &v1::AuthService::Stub::SetDefaultAccount, request);
}

absl::StatusOr<v1::ListChannelsResponse> AuthClient::ListChannels() {
  return Call<v1::ListChannelsRequest, v1::ListChannelsResponse>(
      *channel_stub_, &v1::ChannelService::Stub::ListChannels, v1::ListChannelsRequest());
}

absl::StatusOr<v1::GetChannelResponse> AuthClient::GetChannel(absl::string_view channel) {
  v1::GetChannelRequest request;
  request.set_channel(std::string(channel));
  return Call<v1::GetChannelRequest, v1::GetChannelResponse>(
      *channel_stub_, &v1::ChannelService::Stub::GetChannel, request);
}

absl::StatusOr<v1::SetChannelResponse> AuthClient::SetChannel(
    absl::string_view channel, const std::map<std::string, std::string>& fields) {
  v1::SetChannelRequest request;
  request.set_channel(std::string(channel));
  request.mutable_fields()->insert(fields.begin(), fields.end());
  return Call<v1::SetChannelRequest, v1::SetChannelResponse>(
      *channel_stub_, &v1::ChannelService::Stub::SetChannel, request);
}

absl::StatusOr<v1::UnsetChannelResponse> AuthClient::UnsetChannel(absl::string_view channel) {
  v1::UnsetChannelRequest request;
  request.set_channel(std::string(channel));
  return Call<v1::UnsetChannelRequest, v1::UnsetChannelResponse>(
      *channel_stub_, &v1::ChannelService::Stub::UnsetChannel, request);
}

absl::StatusOr<v1::DaemonStatus> AuthClient::GetDaemonStatus() {
  return Call<v1::GetDaemonStatusRequest, v1::DaemonStatus>(
      *daemon_stub_, &v1::DaemonService::Stub::GetDaemonStatus, v1::GetDaemonStatusRequest());
}

std::unique_ptr<grpc::ClientReaderWriter<v1::LoginRequest, v1::LoginEvent>> AuthClient::OpenLogin(
    grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(6));
  return stub_->Login(&context);
}

bool IsDaemonUnreachable(const absl::Status& status) {
  return status.GetPayload(kUnreachablePayload).has_value();
}

}  // namespace operator_auth
