#include "cli/login_command.h"

#include <unistd.h>

#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cli/browser_launcher.h"
#include "cli/exit_status.h"
#include "cli/interrupt_watch.h"
#include "cli/output.h"
#include "cli/spinner_console.h"
#include "cli/stdin_line_reader.h"

namespace operator_auth::cli {
namespace {

using LoginStream = grpc::ClientReaderWriter<v1::LoginRequest, v1::LoginEvent>;

// After the first Ctrl-C the daemon is asked to cancel, so that it frees its loopback port before
// the stream ends. A daemon that has not ended the stream by then is cut off; so is one at the
// second Ctrl-C.
constexpr absl::Duration kCancelGrace = absl::Seconds(3);

// One login, from the start request to the exit code. The main thread reads events; the stdin
// reader sends answers and the interrupt watch sends the cancel, each through Send().
class LoginCommand {
 public:
  LoginCommand(AuthClient& client, const LoginArguments& arguments)
      : client_(client), arguments_(arguments), console_(isatty(STDERR_FILENO) == 1) {}

  int Run();

 private:
  void Handle(const v1::LoginEvent& event);
  void ShowAuthUrl(const v1::LoginAuthUrl& auth_url);
  void ShowDeviceCode(const v1::LoginDeviceCode& device_code);
  void ShowPrompt(const v1::LoginPrompt& prompt);
  void OfferBrowser(const std::string& url);
  void SendAnswer(std::string text);
  void OnInterrupt(int count);
  // Writes to the stream until it has ended. One writer at a time: the stream allows no more.
  bool Send(const v1::LoginRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  int Conclude(const grpc::Status& status);

  AuthClient& client_;
  const LoginArguments arguments_;
  SpinnerConsole console_;
  BrowserLauncher browser_;
  grpc::ClientContext context_;
  // Set before the other threads start; Read() and Finish() only on the main thread.
  std::unique_ptr<LoginStream> stream_;
  std::unique_ptr<StdinLineReader> stdin_reader_;  // from the first prompt on
  std::optional<v1::LoginComplete> complete_;
  // Started by the interrupt watch's thread, joined after that thread has ended.
  std::thread cancel_deadline_;

  absl::Mutex mu_;
  bool stream_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
};

int LoginCommand::Run() {
  // A daemon that is away gets the usual message and exit code, before any browser opens; a
  // socket served by another uid is refused before anything is sent to it.
  if (absl::StatusOr<v1::AuthStatus> reachable = client_.GetAuthStatus(arguments_.provider);
      !reachable.ok() && (IsDaemonUnreachable(reachable.status()) ||
                           absl::IsPermissionDenied(reachable.status()))) {
    return ReportFailure(reachable.status(), client_.socket_path());
  }
  stream_ = client_.OpenLogin(context_);
  std::optional<InterruptWatch> interrupts;
  interrupts.emplace([this](int count) { OnInterrupt(count); });

  v1::LoginRequest start;
  start.mutable_start()->set_provider(arguments_.provider);
  if (arguments_.provider.find('@') == std::string::npos) {
    start.mutable_start()->set_account(client_.account());
  }
  start.mutable_start()->set_enterprise_domain(arguments_.enterprise_domain);
  start.mutable_start()->set_device(arguments_.device);
  // A failed write ends the reads below at once, and Finish() says why.
  Send(start);
  v1::LoginEvent event;
  while (stream_->Read(&event)) Handle(event);

  {
    absl::MutexLock lock(&mu_);
    stream_ended_ = true;
  }
  if (stdin_reader_ != nullptr) stdin_reader_->Stop();
  console_.Stop();
  interrupts.reset();
  if (cancel_deadline_.joinable()) cancel_deadline_.join();
  return Conclude(stream_->Finish());
}

void LoginCommand::Handle(const v1::LoginEvent& event) {
  switch (event.kind_case()) {
    case v1::LoginEvent::kAuthUrl:
      ShowAuthUrl(event.auth_url());
      break;
    case v1::LoginEvent::kDeviceCode:
      ShowDeviceCode(event.device_code());
      break;
    case v1::LoginEvent::kPrompt:
      ShowPrompt(event.prompt());
      break;
    case v1::LoginEvent::kProgress:
      console_.StopSpinner();
      console_.Err(absl::StrCat(event.progress().message(), "\n"));
      break;
    case v1::LoginEvent::kComplete:
      console_.StopSpinner();
      complete_ = event.complete();
      break;
    default:
      break;  // an event a newer daemon knows about; the login goes on without it
  }
}

void LoginCommand::ShowAuthUrl(const v1::LoginAuthUrl& auth_url) {
  console_.Out(absl::StrCat("Open this URL to log in:\n  ", auth_url.url(), "\n"));
  if (!auth_url.instructions().empty()) console_.Out(absl::StrCat(auth_url.instructions(), "\n"));
  OfferBrowser(auth_url.url());
  console_.StartSpinner("Waiting for the browser");
}

void LoginCommand::ShowDeviceCode(const v1::LoginDeviceCode& device_code) {
  console_.Out(absl::StrCat("Open ", device_code.verification_uri(),
                            " and enter the code: ", device_code.user_code(), "\n"));
  if (!device_code.verification_uri_complete().empty()) {
    console_.Out(absl::StrCat("  (or open ", device_code.verification_uri_complete(),
                              ", which fills in the code)\n"));
  }
  OfferBrowser(device_code.verification_uri_complete().empty()
                   ? device_code.verification_uri()
                   : device_code.verification_uri_complete());
  console_.StartSpinner("Waiting for approval in the browser");
}

void LoginCommand::ShowPrompt(const v1::LoginPrompt& prompt) {
  if (stdin_reader_ == nullptr) {
    stdin_reader_ = std::make_unique<StdinLineReader>(
        [this](std::string line) { SendAnswer(std::move(line)); },
        [this] {
          console_.Err(absl::StrCat("operatorctl: the pasted line is longer than ",
                                    kMaxPastedLineBytes, " bytes; ignored\n"));
        });
    stdin_reader_->Start();
  }
  absl::string_view message = prompt.message();
  std::string shown(message);
  if (stdin_reader_->hides_input()) {
    // "... it ends on:" -> "... it ends on (input is hidden):"
    const bool colon = absl::ConsumeSuffix(&message, ":");
    shown = absl::StrCat(message, " (input is hidden)", colon ? ":" : "");
  }
  console_.Err(absl::StrCat(shown, "\n"));
}

void LoginCommand::OfferBrowser(const std::string& url) {
  if (!arguments_.open_browser || !HasGraphicalSession()) return;
  if (absl::Status opened = browser_.Open(url); !opened.ok()) {
    console_.Err(absl::StrCat("operatorctl: warning: could not open a browser (", opened.message(),
                              "); open the URL yourself\n"));
  }
}

void LoginCommand::SendAnswer(std::string text) {
  v1::LoginRequest answer;
  answer.mutable_answer()->set_text(std::move(text));
  if (Send(answer)) console_.Err("Checking what was pasted...\n");
}

void LoginCommand::OnInterrupt(int count) {
  {
    absl::MutexLock lock(&mu_);
    interrupted_ = true;
    if (stream_ended_) return;
  }
  if (count > 1) {
    context_.TryCancel();
    return;
  }
  console_.StopSpinner();
  // On a terminal, over the "^C" it may have echoed.
  console_.Err(isatty(STDERR_FILENO) == 1 ? "\r\x1b[KCancelling the login...\n"
                                          : "Cancelling the login...\n");
  v1::LoginRequest cancel;
  cancel.mutable_cancel();
  Send(cancel);
  cancel_deadline_ = std::thread([this] {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&stream_ended_), kCancelGrace)) context_.TryCancel();
  });
}

bool LoginCommand::Send(const v1::LoginRequest& request) {
  absl::MutexLock lock(&mu_);
  if (stream_ended_) return false;
  return stream_->Write(request);
}

int LoginCommand::Conclude(const grpc::Status& status) {
  bool interrupted;
  {
    absl::MutexLock lock(&mu_);
    interrupted = interrupted_;
  }
  if (status.ok()) {
    // A login that completed as the user pressed Ctrl-C is stored all the same: report it.
    std::string done = absl::StrCat(
        "Logged in to ", complete_.has_value() ? complete_->provider() : arguments_.provider);
    if (complete_.has_value() && !complete_->account_id().empty()) {
      absl::StrAppend(&done, " (account ", complete_->account_id(), ")");
    }
    if (complete_.has_value() && !complete_->project_id().empty()) {
      absl::StrAppend(&done, " (project ", complete_->project_id(), ")");
    }
    if (complete_.has_value() && complete_->expires_unix_ms() != 0) {
      absl::StrAppend(&done, " — token valid until ",
                      FormatUnixMillisUtc(complete_->expires_unix_ms()));
    }
    console_.Out(absl::StrCat(done, "\n"));
    return kExitOk;
  }
  if (interrupted && status.error_code() == grpc::StatusCode::CANCELLED) {
    console_.Err("Login cancelled.\n");
    return kExitCancelled;
  }
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  // UNAVAILABLE is also the daemon's word for a provider it cannot reach; whether the daemon
  // itself went away mid-login, only asking it again tells.
  if (code == absl::StatusCode::kUnavailable) {
    if (absl::StatusOr<v1::AuthStatus> reachable = client_.GetAuthStatus(arguments_.provider);
        !reachable.ok() && (IsDaemonUnreachable(reachable.status()) ||
                           absl::IsPermissionDenied(reachable.status()))) {
      return ReportFailure(reachable.status(), client_.socket_path());
    }
  }
  const int exit_code =
      ReportFailure(absl::Status(code, status.error_message()), client_.socket_path());
  if (code == absl::StatusCode::kNotFound) {
    console_.Err(absl::StrCat("operatorctl: hint: an API-key provider takes `operatorctl auth set ",
                              arguments_.provider, " --api-key -`\n"));
  }
  return exit_code;
}

}  // namespace

int RunLogin(AuthClient& client, const LoginArguments& arguments) {
  return LoginCommand(client, arguments).Run();
}

}  // namespace operator_auth::cli
