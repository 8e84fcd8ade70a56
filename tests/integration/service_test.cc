// AuthService end to end through the C++ client against the real daemon binary.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <future>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/daemon_fixture.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using ServiceTest = DaemonTest;

TEST_F(ServiceTest, SetGetStatusListThroughTheClient) {
  auto missing = client_->GetApiKey("openai");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();

  auto set = client_->SetApiKey("openai", "sk-client-1");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_FALSE(set->replaced());

  auto key = client_->GetApiKey("openai");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "sk-client-1");
  EXPECT_EQ(key->source, ApiKeySource::kDaemonStored);

  auto status = client_->GetAuthStatus("openai");
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->configured());
  EXPECT_EQ(status->source(), v1::CREDENTIAL_SOURCE_STORED);
  EXPECT_EQ(status->stored_type(), v1::STORED_CREDENTIAL_TYPE_API_KEY);
  EXPECT_THAT(status->DebugString(), Not(HasSubstr("sk-client-1")));

  ASSERT_TRUE(client_->SetApiKey("my-llm", "sk-custom").ok());
  auto list = client_->ListProviders();
  ASSERT_TRUE(list.ok());
  std::map<std::string, v1::ProviderInfo> by_id;
  for (const auto& p : list->providers()) by_id[p.id()] = p;
  EXPECT_EQ(by_id.size(), 16u);  // 15 built-in + my-llm
  EXPECT_EQ(by_id["openai-codex"].kind(), v1::PROVIDER_KIND_OAUTH);
  EXPECT_EQ(by_id["openai"].kind(), v1::PROVIDER_KIND_API_KEY);
  EXPECT_TRUE(by_id["openai"].status().configured());
  EXPECT_TRUE(by_id["my-llm"].status().configured());
  EXPECT_FALSE(by_id["my-llm"].builtin());
  EXPECT_FALSE(by_id["groq"].status().configured());
  EXPECT_THAT(list->DebugString(), Not(HasSubstr("sk-")));

  ASSERT_TRUE(client_->Logout("openai")->removed());
  EXPECT_FALSE(client_->Logout("openai")->removed());
  EXPECT_TRUE(absl::IsNotFound(client_->GetApiKey("openai").status()));
}

TEST_F(ServiceTest, RuntimeKeyWinsAndIsNeverWritten) {
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-stored").ok());
  ASSERT_TRUE(client_->SetRuntimeApiKey("openai", "sk-runtime-only").ok());
  auto key = client_->GetApiKey("openai");
  EXPECT_EQ(key->key, "sk-runtime-only");
  EXPECT_EQ(key->source, ApiKeySource::kDaemonRuntime);
  EXPECT_THAT(ReadFileOrDie(daemon_.providers_path()), Not(HasSubstr("sk-runtime-only")));
  EXPECT_TRUE(client_->SetRuntimeApiKey("openai", "")->cleared());
  EXPECT_EQ(client_->GetApiKey("openai")->key, "sk-stored");
}

// The daemon keeps each GetApiKey answer serialized until the key state moves
// (daemon/server/api_key_answers.h): every kind of change must reach the very next call of the
// same request, on the same connection.
TEST_F(ServiceTest, ARepeatedGetApiKeySeesEveryChangeAtItsNextCall) {
  daemon_.Stop();
  daemon_.SetConfig(R"({"aliases": {"work-llm": "openai"}})");
  ASSERT_TRUE(daemon_.Start().ok());
  auto key_of = [&](const std::string& provider) -> std::string {
    absl::StatusOr<ApiKey> key = client_->GetApiKey(provider);
    return key.ok() ? key->key : std::string(absl::StatusCodeToString(key.status().code()));
  };
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-first-1").ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(key_of("openai"), "sk-first-1");
    EXPECT_EQ(key_of("work-llm"), "sk-first-1");
  }
  EXPECT_EQ(key_of("openai@work"), "NOT_FOUND");

  // Another tool rewrites the file.
  WriteFileOrDie(daemon_.providers_path(),
                 R"({"openai": {"type": "api_key", "key": "sk-second-2"},
                     "openai@work": {"type": "api_key", "key": "sk-work-3"}})");
  EXPECT_EQ(key_of("openai"), "sk-second-2");
  EXPECT_EQ(key_of("work-llm"), "sk-second-2");
  EXPECT_EQ(key_of("openai@work"), "sk-work-3");

  ASSERT_TRUE(client_->SetRuntimeApiKey("openai", "sk-runtime-4").ok());
  EXPECT_EQ(key_of("openai"), "sk-runtime-4");
  EXPECT_EQ(key_of("openai@work"), "sk-work-3");
  ASSERT_TRUE(client_->SetRuntimeApiKey("openai", "").ok());
  EXPECT_EQ(key_of("openai"), "sk-second-2");

  // SIGHUP drops the alias: "work-llm" is now an id of its own, with no credential.
  WriteFileOrDie(daemon_.config_path(), "{}");
  daemon_.Signal(SIGHUP);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline &&
         daemon_.Log().find("configuration reloaded") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_THAT(daemon_.Log(), HasSubstr("configuration reloaded"));
  EXPECT_EQ(key_of("work-llm"), "NOT_FOUND");

  ASSERT_TRUE(client_->Logout("openai")->removed());
  EXPECT_EQ(key_of("openai"), "NOT_FOUND");
  EXPECT_EQ(key_of("openai@work"), "sk-work-3");
}

// GetApiKey reads its request itself (a raw method): bytes that are no GetApiKeyRequest get a
// clear INVALID_ARGUMENT, and the daemon goes on.
TEST_F(ServiceTest, AGetApiKeyRequestThatDoesNotParseIsRefused) {
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel("unix:" + daemon_.socket_path(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  const std::string garbage = "\x0a\xff\xff\xff\xff\x0f";  // field 1, length far past the end
  grpc::Slice slice(garbage);
  grpc::ByteBuffer request(&slice, 1);
  std::promise<grpc::Status> done;
  grpc::ByteBuffer response;
  stub.UnaryCall(&context, "/operator_auth.v1.AuthService/GetApiKey", grpc::StubOptions(),
                 &request, &response, [&](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "the GetApiKey request does not parse");
  ASSERT_TRUE(client_->SetApiKey("openai", "sk-after").ok());
  EXPECT_EQ(client_->GetApiKey("openai")->key, "sk-after");
}

TEST_F(ServiceTest, BadInputIsRefusedWithTheRuleAndWithoutTheKey) {
  auto bad_id = client_->GetApiKey("Not/Valid");
  EXPECT_TRUE(absl::IsInvalidArgument(bad_id.status()));
  EXPECT_THAT(std::string(bad_id.status().message()), HasSubstr("provider id"));

  auto control = client_->SetApiKey("openai", "sk-hidden-value\n");
  EXPECT_TRUE(absl::IsInvalidArgument(control.status()));
  EXPECT_THAT(std::string(control.status().message()), HasSubstr("control character"));
  EXPECT_THAT(std::string(control.status().message()), Not(HasSubstr("hidden")));

  auto too_long = client_->SetApiKey("openai", std::string(9000, 'k'));
  EXPECT_TRUE(absl::IsInvalidArgument(too_long.status()));
  EXPECT_THAT(std::string(too_long.status().message()), HasSubstr("longer than 8192"));

  auto empty = client_->SetApiKey("openai", "");
  EXPECT_TRUE(absl::IsInvalidArgument(empty.status()));

  // Over the 64 KiB message limit: refused by gRPC before the service sees it.
  auto huge = client_->SetApiKey("openai", std::string(100 * 1024, 'k'));
  EXPECT_TRUE(absl::IsResourceExhausted(huge.status())) << huge.status();
  EXPECT_FALSE(PathExists(daemon_.providers_path()));

  // The daemon is still fine afterwards.
  EXPECT_TRUE(client_->SetApiKey("openai", "sk-ok").ok());
}

TEST_F(ServiceTest, DaemonEnvironmentIsTheLastResortAndNamedInStatus) {
  daemon_.Stop();
  daemon_.SetEnv("NVIDIA_API_KEY", "nvapi-from-env");
  ASSERT_TRUE(daemon_.Start().ok());
  auto key = client_->GetApiKey("nvidia");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "nvapi-from-env");
  EXPECT_EQ(key->source, ApiKeySource::kDaemonEnv);
  auto status = client_->GetAuthStatus("nvidia");
  EXPECT_EQ(status->label(), "NVIDIA_API_KEY");
  EXPECT_FALSE(PathExists(daemon_.providers_path()));
}

TEST_F(ServiceTest, ClientFallsBackToCallerEnvironmentAndSaysSo) {
  AuthClientOptions options;
  options.socket_path = daemon_.socket_path();
  AuthClient with_fallback(options);
  setenv("PERPLEXITY_API_KEY", "pplx-caller", 1);
  auto key = with_fallback.GetApiKey("perplexity");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->source, ApiKeySource::kCallerEnv);
  EXPECT_THAT(key->label, HasSubstr("no credential"));

  daemon_.Stop();
  key = with_fallback.GetApiKey("perplexity");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->source, ApiKeySource::kCallerEnv);
  EXPECT_THAT(key->label, HasSubstr("unreachable"));
  unsetenv("PERPLEXITY_API_KEY");

  auto none = with_fallback.GetApiKey("perplexity");
  EXPECT_TRUE(IsDaemonUnreachable(none.status())) << none.status();
  EXPECT_THAT(std::string(none.status().message()), HasSubstr(daemon_.socket_path()));
}

TEST_F(ServiceTest, MalformedProvidersJsonIsReportedAndLeftByteForByte) {
  daemon_.Stop();
  const std::string broken = "{\"openai\": {\"type\": \"api_key\", \"key\": \"sk-do-not-leak\",";
  WriteFileOrDie(daemon_.providers_path(), broken);
  ASSERT_TRUE(daemon_.Start().ok()) << daemon_.Log();

  auto status = client_->GetAuthStatus("openai");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_FALSE(status->configured());
  EXPECT_THAT(status->storage_error(), HasSubstr("not valid JSON"));

  auto set = client_->SetApiKey("groq", "gsk-new");
  EXPECT_TRUE(absl::IsFailedPrecondition(set.status())) << set.status();
  EXPECT_THAT(std::string(set.status().message()), HasSubstr("cannot be loaded"));
  EXPECT_EQ(ReadFileOrDie(daemon_.providers_path()), broken);

  auto errors = client_->DrainErrors();
  ASSERT_TRUE(errors.ok());
  ASSERT_GE(errors->errors_size(), 1);
  EXPECT_THAT(errors->errors(0).message(), HasSubstr("not valid JSON"));
  EXPECT_EQ(client_->DrainErrors()->errors_size(), 0);

  EXPECT_THAT(daemon_.Log(), Not(HasSubstr("sk-do-not-leak")));
  EXPECT_THAT(errors->DebugString(), Not(HasSubstr("sk-do-not-leak")));
}

TEST_F(ServiceTest, HealthServiceAnswersServing) {
  auto channel =
      grpc::CreateChannel("unix:" + daemon_.socket_path(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::ByteBuffer request;  // an empty HealthCheckRequest: all services
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices)
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  // HealthCheckResponse{status: SERVING(1)} encodes as field 1 varint 1.
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

// Reads one completion from `cq` and checks it is `tag` and succeeded.
bool Next(grpc::CompletionQueue& cq, void* tag) {
  void* got = nullptr;
  bool ok = false;
  return cq.Next(&got, &ok) && ok && got == tag;
}

TEST_F(ServiceTest, ServerReflectionListsTheAuthService) {
  auto channel =
      grpc::CreateChannel("unix:" + daemon_.socket_path(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto stream = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* const start = reinterpret_cast<void*>(1);
  void* const write = reinterpret_cast<void*>(2);
  void* const read = reinterpret_cast<void*>(3);
  void* const finish = reinterpret_cast<void*>(4);
  stream->StartCall(start);
  ASSERT_TRUE(Next(cq, start));
  // ServerReflectionRequest{list_services: ""}: field 7, length-delimited, empty.
  grpc::Slice request_bytes(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&request_bytes, 1);
  stream->Write(request, write);
  ASSERT_TRUE(Next(cq, write));
  grpc::ByteBuffer response;
  stream->Read(&response, read);
  ASSERT_TRUE(Next(cq, read));
  stream->WritesDone(write);
  ASSERT_TRUE(Next(cq, write));
  grpc::Status status;
  stream->Finish(&status, finish);
  ASSERT_TRUE(Next(cq, finish));
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_THAT(bytes, HasSubstr("operator_auth.v1.AuthService"));
  EXPECT_THAT(bytes, HasSubstr("grpc.health.v1.Health"));
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace operator_auth::testing
