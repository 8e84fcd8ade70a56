#include "daemon/server/login_reactor.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/host_name.h"
#include "common/credential_key.h"
#include "common/provider_id.h"
#include "daemon/core/thread_start.h"
#include "daemon/oauth/printable_text.h"
#include "daemon/server/status_conversion.h"

namespace operator_auth {
namespace {

// Text the daemon wrote itself (instructions, prompts), cut at a UTF-8 character boundary: a
// protobuf string must stay valid UTF-8.
std::string Capped(std::string text) {
  if (text.size() <= LoginReactor::kMaxTextBytes) return text;
  size_t end = LoginReactor::kMaxTextBytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

// Text a provider sent (device codes, URIs it chose, notes): printable ASCII only.
std::string FromProvider(const std::string& text) {
  return PrintableErrorText(text, LoginReactor::kMaxTextBytes);
}

}  // namespace

LoginReactor::LoginReactor(ProviderAuthManager& manager, ProviderOAuthService& oauth,
                           LoginSlots& slots, ClientGate& gate, CallTracker::Call call)
    : manager_(manager), oauth_(oauth), slots_(slots), gate_(gate), call_(std::move(call)) {
  StartRead(&request_);
}

void LoginReactor::OnReadDone(bool ok) {
  if (!ok) {
    // The client closed its side. Before a start that is a protocol error; after it, the login
    // simply goes on without further answers.
    absl::MutexLock lock(&mu_);
    if (session_ == nullptr && !finish_.has_value()) {
      finish_ = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                             "the first Login message must be a start");
      if (!writing_) WriteNextLocked();
    }
    return;
  }
  bool started;
  {
    absl::MutexLock lock(&mu_);
    started = session_ != nullptr || finish_.has_value();
    if (started && session_ != nullptr) {
      if (request_.has_answer()) session_->Answer(request_.answer().text());
      if (request_.has_cancel()) session_->Cancel();
    }
  }
  if (!started) {
    if (!request_.has_start()) {
      FinishWhenDrained(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "the first Login message must be a start"));
      return;
    }
    StartSession(request_.start());
  }
  // A refused start has already finished the stream: no more reads after Finish.
  absl::MutexLock lock(&mu_);
  if (!finish_.has_value()) StartRead(&request_);
}

void LoginReactor::StartSession(const v1::LoginStart& start) {
  // The credential key the login is stored under: "PROVIDER" or "PROVIDER@ACCOUNT". Each account
  // has its own login slot, so two accounts may log in at once.
  absl::StatusOr<std::string> key =
      manager_.KeyFor(CredentialKey(start.provider(), start.account()));
  if (!key.ok()) {
    FinishWhenDrained(ToGrpcStatus(key.status()));
    return;
  }
  const std::string provider = *std::move(key);
  const std::string id(ProviderOfKey(provider));
  const std::string account(AccountOfKey(provider));
  // Every end of the call from here on is recorded (the session's in RunSession).
  auto refuse = [this, &id, &account](const absl::Status& status) {
    gate_.Record("Login", call_.identity(), rule_, id, account, status);
    FinishWhenDrained(ToGrpcStatus(status));
  };
  // A login replaces the credential of the account it is stored as.
  if (absl::Status allowed = gate_.CheckProvider(call_.identity().get(), id, account, rule_);
      !allowed.ok()) {
    refuse(allowed);
    return;
  }
  LoginOptions options;
  options.device = start.device();
  if (!start.enterprise_domain().empty()) {
    // Spliced into URLs: the daemon checks it itself, whatever the client did.
    absl::StatusOr<std::string> domain = NormalizeHostAndPort(start.enterprise_domain());
    if (!domain.ok()) {
      refuse(domain.status());
      return;
    }
    options.enterprise_domain = *std::move(domain);
  }
  std::shared_ptr<OAuthClient> client = oauth_.ClientFor(provider);
  if (client == nullptr) {
    refuse(absl::NotFoundError(
        absl::StrCat(provider, " is not an OAuth provider; API-key providers use SetApiKey")));
    return;
  }
  absl::StatusOr<LoginSlots::Slot> slot = slots_.Acquire(provider);
  if (!slot.ok()) {
    spdlog::info("login for {} refused: {}", provider, std::string(slot.status().message()));
    refuse(slot.status());
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    slot_ = *std::move(slot);
    client_ = client;  // kept for the session, even if SIGHUP replaces the configuration
    session_ = std::make_unique<LoginSession>(*client, options);
  }
  absl::StatusOr<std::thread> thread =
      StartThread("the login thread", [this, provider] { RunSession(provider); });
  if (!thread.ok()) {
    spdlog::error("login for {} not started: {}", provider, std::string(thread.status().message()));
    {
      absl::MutexLock lock(&mu_);
      session_.reset();
      client_.reset();
      slot_ = LoginSlots::Slot();
    }
    refuse(thread.status());
    return;
  }
  spdlog::info("login started for {}", provider);
  thread_ = *std::move(thread);
}

void LoginReactor::RunSession(std::string provider) {
  LoginSession* session;
  {
    absl::MutexLock lock(&mu_);
    session = session_.get();
  }
  absl::StatusOr<Credential> credential = session->Run([this](const LoginEvent& e) {
    v1::LoginEvent event;
    switch (e.kind) {
      case LoginEvent::Kind::kAuthUrl:
        event.mutable_auth_url()->set_url(Capped(e.text));
        event.mutable_auth_url()->set_instructions(Capped(e.instructions));
        break;
      case LoginEvent::Kind::kDeviceCode: {
        v1::LoginDeviceCode* code = event.mutable_device_code();
        code->set_user_code(FromProvider(e.user_code));
        code->set_verification_uri(FromProvider(e.verification_uri));
        code->set_verification_uri_complete(FromProvider(e.verification_uri_complete));
        code->set_expires_in_s(absl::ToInt64Seconds(e.expires_in));
        code->set_instructions(FromProvider(e.instructions));
        break;
      }
      case LoginEvent::Kind::kPrompt:
        event.mutable_prompt()->set_message(Capped(e.text));
        break;
      case LoginEvent::Kind::kProgress:
        // Notes from the post-login steps quote the provider.
        event.mutable_progress()->set_message(FromProvider(e.text));
        break;
    }
    Emit(std::move(event));
  });
  absl::Status stored = credential.status();
  if (credential.ok()) stored = manager_.StoreOAuthLogin(provider, *credential);
  {
    // The next login for this provider may start as soon as the client hears how this one ended.
    absl::MutexLock lock(&mu_);
    slot_ = LoginSlots::Slot();
  }
  gate_.Record("Login", call_.identity(), rule_, std::string(ProviderOfKey(provider)),
               std::string(AccountOfKey(provider)), stored);
  if (!stored.ok()) {
    spdlog::warn("login for {} ended: {}", provider, std::string(stored.message()));
    FinishWhenDrained(ToGrpcStatus(stored));
    return;
  }
  spdlog::info("login for {} complete", provider);
  v1::LoginEvent done;
  done.mutable_complete()->set_provider(std::string(ProviderOfKey(provider)));
  done.mutable_complete()->set_account(std::string(AccountOfKey(provider)));
  done.mutable_complete()->set_account_id(FromProvider(credential->account_id));
  done.mutable_complete()->set_expires_unix_ms(credential->expires_unix_ms);
  done.mutable_complete()->set_project_id(
      FromProvider(credential->Attribute(kProjectIdAttribute, kProjectIdAttributePi)));
  for (const std::string& note : session->notes()) {
    if (static_cast<size_t>(done.complete().notes_size()) >= kMaxEvents) break;
    done.mutable_complete()->add_notes(FromProvider(note));
  }
  Emit(std::move(done));
  FinishWhenDrained(grpc::Status::OK);
}

void LoginReactor::Emit(v1::LoginEvent event) {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  // A client that keeps pasting wrong answers gets a prompt for each: past the cap the login
  // stops instead of writing without end. The completion always has room.
  if (events_sent_ >= kMaxEvents && !event.has_complete()) {
    if (session_ != nullptr) session_->Cancel();
    if (!finish_.has_value()) {
      finish_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                             absl::StrCat("the login sent ", kMaxEvents,
                                          " messages without finishing; start it again"));
      if (!writing_) WriteNextLocked();
    }
    return;
  }
  ++events_sent_;
  queue_.push_back(std::move(event));
  if (!writing_) WriteNextLocked();
}

void LoginReactor::FinishWhenDrained(grpc::Status status) {
  absl::MutexLock lock(&mu_);
  if (finish_.has_value()) return;
  finish_ = std::move(status);
  if (!writing_) WriteNextLocked();
}

void LoginReactor::WriteNextLocked() {
  if (finished_) return;
  if (!queue_.empty()) {
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    StartWrite(&in_flight_);
    return;
  }
  writing_ = false;
  if (finish_.has_value()) {
    finished_ = true;
    Finish(*finish_);
  }
}

void LoginReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  if (!ok) {
    // The client is gone: stop the session; the stream finishes when it returns.
    queue_.clear();
    if (session_ != nullptr) session_->Cancel();
  }
  WriteNextLocked();
}

void LoginReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  if (session_ != nullptr) session_->Cancel();
}

void LoginReactor::OnDone() {
  if (thread_.joinable()) thread_.join();
  delete this;
}

}  // namespace operator_auth
