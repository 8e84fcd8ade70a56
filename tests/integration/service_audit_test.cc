// The services' side of client rules and the audit trail, in process: AuthServiceImpl behind a
// gRPC server fed one connection through the ConnectionTable (as the listener does), so the
// call carries this process's identity, and a recording AuditSink in the ClientGate.
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>
#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "daemon/core/api_key_watch_hub.h"
#include "daemon/core/blocking_executor.h"
#include "daemon/core/client_gate.h"
#include "daemon/core/connection_table.h"
#include "daemon/core/in_memory_auth_storage.h"
#include "daemon/core/provider_auth_manager.h"
#include "daemon/core/refresh_coordinator.h"
#include "daemon/oauth/http_client.h"
#include "daemon/oauth/provider_oauth_service.h"
#include "daemon/server/auth_service.h"
#include "daemon/server/call_tracker.h"
#include "daemon/server/request_counter.h"
#include "daemon/vendor/vendor_sync.h"
#include "operator_auth/v1/auth.grpc.pb.h"
#include "tests/support/temp_dir.h"

namespace operator_auth::testing {
namespace {

using ::testing::HasSubstr;

class RecordingSink : public AuditSink {
 public:
  void Record(AuditRecord record) override {
    absl::MutexLock lock(&mu_);
    records_.push_back(std::move(record));
  }
  std::vector<AuditRecord> Take() {
    absl::MutexLock lock(&mu_);
    return std::exchange(records_, {});
  }

 private:
  absl::Mutex mu_;
  std::vector<AuditRecord> records_;
};

std::string SelfExe() {
  char buffer[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer));
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

std::optional<std::string> Env(const std::string& name) {
  if (name == "OPENAI_API_KEY") return "sk-audit-openai-0123456789";
  if (name == "ANTHROPIC_API_KEY") return "sk-ant-audit-0123456789";
  return std::nullopt;
}

class ServiceAuditTest : public ::testing::Test {
 protected:
  ServiceAuditTest()
      : manager_(storage_, ProviderRegistry::BuiltIn(), Env),
        oauth_({}, http_),
        coordinator_(storage_, oauth_, nullptr),
        watches_(manager_, storage_),
        vendor_sync_(storage_, coordinator_, dir_.Sub("auth"), TrustBoundary::ForThisProcess(),
                     VendorSync::Options()),
        gate_(Rules(), &sink_),
        service_(manager_, oauth_, writes_, calls_, watches_, requests_, vendor_sync_, gate_) {}

  static std::shared_ptr<const ClientRules> Rules() {
    absl::StatusOr<ClientRules> rules =
        ClientRules::Create({{"this-test", SelfExe(), "", {"openai"}}}, ClientsDefault::kAllow,
                            ProviderRegistry::BuiltIn());
    EXPECT_TRUE(rules.ok()) << rules.status();
    return std::make_shared<const ClientRules>(rules.ok() ? *std::move(rules) : ClientRules());
  }

  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
    // As the listener does: admitted (identity read), then handed to gRPC.
    ASSERT_TRUE(connections_.Admit(fds[0]).ok());
    grpc::AddInsecureChannelFromFd(server_.get(), fds[0]);
    channel_ = grpc::CreateInsecureChannelFromFd("audit-test", fds[1]);
    stub_ = v1::AuthService::NewStub(channel_);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  grpc::Status GetApiKey(const std::string& provider) {
    grpc::ClientContext context;
    v1::GetApiKeyRequest request;
    request.set_provider(provider);
    v1::GetApiKeyResponse response;
    return stub_->GetApiKey(&context, request, &response);
  }

  TempDir dir_;
  InMemoryAuthStorage storage_;
  ProviderAuthManager manager_;
  CurlHttpClient http_;
  ProviderOAuthService oauth_;
  RefreshCoordinator coordinator_;
  ApiKeyWatchHub watches_;
  VendorSync vendor_sync_;
  ConnectionTable connections_{16};
  CallTracker calls_{&connections_};
  BlockingExecutor writes_{1, 16};
  RequestCounter requests_;
  RecordingSink sink_;
  ClientGate gate_;
  AuthServiceImpl service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AuthService::Stub> stub_;
};

TEST_F(ServiceAuditTest, EachCredentialCallIsRecordedWithTheCallersIdentityRuleAndOutcome) {
  ASSERT_TRUE(GetApiKey("openai").ok());
  grpc::Status denied = GetApiKey("anthropic");
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(), "client rule \"this-test\" does not allow anthropic");
  {
    grpc::ClientContext context;
    v1::SetApiKeyRequest request;
    request.set_provider("claude");  // an alias: recorded under its provider id
    request.set_key("sk-ant-audit-other-0123456789");
    v1::SetApiKeyResponse response;
    EXPECT_EQ(stub_->SetApiKey(&context, request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    // Carries no secret: open, and not recorded.
    grpc::ClientContext context;
    v1::GetAuthStatusRequest request;
    request.set_provider("anthropic");
    v1::AuthStatus response;
    EXPECT_TRUE(stub_->GetAuthStatus(&context, request, &response).ok());
  }

  std::vector<AuditRecord> records = sink_.Take();
  ASSERT_EQ(records.size(), 3u);
  for (const AuditRecord& r : records) {
    ASSERT_NE(r.peer, nullptr);
    EXPECT_EQ(r.peer->pid, getpid());
    EXPECT_EQ(r.peer->exe, SelfExe());
    EXPECT_EQ(r.rule, "this-test");
    EXPECT_EQ(r.account, "");
    EXPECT_NE(r.time, absl::Time());
  }
  EXPECT_STREQ(records[0].method, "GetApiKey");
  EXPECT_EQ(records[0].provider, "openai");
  EXPECT_EQ(records[0].outcome, "ok");
  EXPECT_STREQ(records[1].method, "GetApiKey");
  EXPECT_EQ(records[1].provider, "anthropic");
  EXPECT_EQ(records[1].outcome, "PERMISSION_DENIED");
  EXPECT_STREQ(records[2].method, "SetApiKey");
  EXPECT_EQ(records[2].provider, "anthropic-claude-code");
  EXPECT_EQ(records[2].outcome, "PERMISSION_DENIED");
}

TEST_F(ServiceAuditTest, AFailedLookupIsRecordedWithItsCode) {
  gate_.SetRules(nullptr);  // no rules: everything allowed, still recorded
  grpc::Status missing = GetApiKey("mistral");
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  std::vector<AuditRecord> records = sink_.Take();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].rule, "");
  EXPECT_EQ(records[0].provider, "mistral");
  EXPECT_EQ(records[0].outcome, "NOT_FOUND");
}

}  // namespace
}  // namespace operator_auth::testing
