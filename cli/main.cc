// operatorctl: the command line for operator-authd. Parses with CLI11 and hands each subcommand
// to AuthCommands. CLI11's own exit codes are replaced by operatorctl's (cli/exit_status.h): a
// parse error is a usage error, 2.
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/audit_command.h"
#include "cli/auth_commands.h"
#include "cli/channel_commands.h"
#include "cli/completion_script.h"
#include "cli/daemon_commands.h"
#include "cli/exec_command.h"
#include "cli/exit_status.h"
#include "cli/fleet_command.h"
#include "cli/import_command.h"
#include "cli/setup_command.h"
#include "common/credential_key.h"
#include "common/default_paths.h"
#include "common/host_name.h"
#include "common/provider_id.h"

namespace operator_auth::cli {
namespace {

// The one provider-id rule, checked before anything reaches the daemon or a key is prompted for.
// The message never repeats the argument: a mistyped command line can put a key in its place.
CLI::Validator ProviderIdValidator() {
  return CLI::Validator(
      [](std::string& id) -> std::string {
        absl::Status valid = ValidateProviderId(id);
        return valid.ok() ? std::string() : std::string(valid.message());
      },
      "", "provider id");
}

// A provider id, or PROVIDER@ACCOUNT naming one of its accounts.
CLI::Validator SelectorValidator() {
  return CLI::Validator(
      [](std::string& id) -> std::string {
        absl::Status valid = ParseCredentialSelector(id).status();
        return valid.ok() ? std::string() : std::string(valid.message());
      },
      "", "provider id");
}

CLI::Validator AccountNameValidator() {
  return CLI::Validator(
      [](std::string& name) -> std::string {
        absl::Status valid = ValidateAccountName(name);
        return valid.ok() ? std::string() : std::string(valid.message());
      },
      "", "account name");
}

// A GitHub Enterprise host, "ghe.example.com" or "ghe.example.com:8443". A pasted
// "https://ghe.example.com/" is trimmed to its host. The daemon applies the same rule.
CLI::Validator EnterpriseDomainValidator() {
  return CLI::Validator(
      [](std::string& domain) -> std::string {
        absl::StatusOr<std::string> normalized = NormalizeHostAndPort(domain);
        if (!normalized.ok()) return "expected a host name such as ghe.example.com";
        domain = *std::move(normalized);
        return std::string();
      },
      "", "enterprise domain");
}

// Adds the options `auth login` and `auth set --oauth` share.
void AddLoginOptions(CLI::App& command, std::string& enterprise_domain, bool& no_browser,
                     bool& device, CLI::Option* needs = nullptr) {
  CLI::Option* domain =
      command
          .add_option("--enterprise-domain", enterprise_domain,
                      "GitHub Copilot: log in through this GitHub Enterprise host")
          ->type_name("HOST")
          ->transform(EnterpriseDomainValidator());
  CLI::Option* browser = command.add_flag("--no-browser", no_browser,
                                          "print the URL only; do not open it with xdg-open");
  CLI::Option* device_flag = command.add_flag(
      "--device", device,
      "log in with a code entered on another device (openai-codex), for machines without a "
      "browser");
  if (needs != nullptr) {
    domain->needs(needs);
    browser->needs(needs);
    device_flag->needs(needs);
  }
}

// CLI11's message for unexpected arguments lists them; under `auth set` one may be a key typed
// without --api-key, so that list is withheld there. (ExtrasError's get_name() is the app's
// name, not "ExtrasError", hence the cast.)
int ReportParseError(const CLI::ParseError& e, bool may_hold_secret) {
  if (may_hold_secret && dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    return ReportUsageError(
        "unexpected arguments (not shown, in case one is a secret typed without its option)\n"
        "Run with --help for more information.");
  }
  return ReportUsageError(std::string(e.what()) + "\nRun with --help for more information.");
}

// Adds the required "id" positional that every provider subcommand takes.
void AddProviderId(CLI::App& command, std::string& id) {
  command.add_option("id", id, "provider id, or PROVIDER@ACCOUNT")
      ->required()
      ->check(SelectorValidator())
      ->type_name("PROVIDER");
}

int Main(int argc, char** argv) {
  GlobalOptions global;
  global.socket_path = DefaultSocketPath();
  std::string provider;
  SetArguments set_arguments;
  std::string api_key;
  std::string enterprise_domain;
  bool no_browser = false;
  bool device = false;

  CLI::App app{
      "operatorctl: manage the LLM provider and chat-channel credentials that operator-authd "
      "serves"};
  app.set_version_flag("--version", std::string("operatorctl ") + AUTHD_VERSION);
  app.add_option("--socket", global.socket_path, "operator-authd's socket")
      ->capture_default_str()
      ->type_name("PATH");
  app.add_option("--account", global.account,
                 "the account to use (default: $OPERATOR_AUTH_ACCOUNT, else the provider's "
                 "default account); PROVIDER@ACCOUNT also names one")
      ->check(AccountNameValidator())
      ->type_name("NAME");
  app.add_flag("--json", global.json,
               "machine-readable output on stdout (auth list/status/token, channels list/show, "
               "daemon status, audit)");
  app.require_subcommand(1);
  // Subcommands inherit this: global options are accepted after them too (`auth list --json`).
  app.fallthrough();

  CLI::App* audit = app.add_subcommand(
      "audit", "who got or changed which credential (auth/audit.jsonl); --json for the lines");
  AuditArguments audit_arguments;
  audit
      ->add_option("--provider", audit_arguments.provider, "only this provider (an id or an alias)")
      ->type_name("ID");
  audit->add_option("--since", audit_arguments.since, "only records this recent: 30s, 15m, 2h, 7d")
      ->type_name("DURATION");
  audit->add_flag("--follow,-f", audit_arguments.follow,
                  "keep printing new records until interrupted");

  CLI::App* auth = app.add_subcommand("auth", "provider credentials (default: list)");
  auth->require_subcommand(0, 1);

  CLI::App* list = auth->add_subcommand("list", "every provider and its status, or one in detail");
  list->add_option("id", provider, "show this provider in detail")
      ->check(SelectorValidator())
      ->type_name("PROVIDER");

  CLI::App* status =
      auth->add_subcommand("status", "one provider in detail; exit 1 when not configured");
  AddProviderId(*status, provider);

  CLI::App* set = auth->add_subcommand("set", "store a provider's API key, or log in with --oauth");
  AddProviderId(*set, set_arguments.provider);
  CLI::Option* api_key_option =
      set->add_option("--api-key", api_key,
                      "the key, or - to read it from stdin (keeps it out of ps and history)")
          ->type_name("SECRET");
  CLI::Option* oauth_option =
      set->add_flag("--oauth", set_arguments.oauth, "log in with OAuth, as `auth login` does");
  api_key_option->excludes(oauth_option);
  AddLoginOptions(*set, set_arguments.enterprise_domain, set_arguments.no_browser,
                  set_arguments.device, oauth_option);

  CLI::App* login = auth->add_subcommand(
      "login", "log in to an OAuth provider in a browser (Ctrl-C cancels; exit 130)");
  AddProviderId(*login, provider);
  AddLoginOptions(*login, enterprise_domain, no_browser, device);

  CLI::App* unset = auth->add_subcommand("unset", "remove a provider's stored credential");
  AddProviderId(*unset, provider);

  CLI::App* token =
      auth->add_subcommand("token", "print a provider's key on stdout; exit 1 when there is none");
  AddProviderId(*token, provider);

  std::string default_account;
  CLI::App* make_default = auth->add_subcommand(
      "default", "make ACCOUNT the provider's default account (what callers naming none get)");
  make_default->add_option("id", provider, "provider id")
      ->required()
      ->check(ProviderIdValidator())
      ->type_name("PROVIDER");
  make_default->add_option("account", default_account, "the named account")
      ->required()
      ->check(AccountNameValidator())
      ->type_name("ACCOUNT");

  ImportArguments import_arguments;
  CLI::App* import = auth->add_subcommand(
      "import", "copy an agent CLI's own logins into the daemon; --keep-in-sync to keep both");
  import->add_option("source", import_arguments.source, "claude-code, codex, gemini-cli or pi")
      ->required()
      ->check(CLI::IsMember({"claude-code", "codex", "gemini-cli", "pi"}))
      ->type_name("SOURCE");
  import->add_option("--from", import_arguments.from, "the vendor's file (default: its own)")
      ->type_name("PATH");
  import->add_flag("--keep-in-sync", import_arguments.keep_in_sync,
                   "from now on the daemon refreshes these logins and writes them back");
  std::string unlink_source;
  CLI::App* unlink =
      auth->add_subcommand("unlink", "stop keeping an agent CLI's credential file in sync");
  unlink->add_option("source", unlink_source, "claude-code, codex, gemini-cli or pi")
      ->required()
      ->check(CLI::IsMember({"claude-code", "codex", "gemini-cli", "pi"}))
      ->type_name("SOURCE");

  CLI::App* channels =
      app.add_subcommand("channels", "chat-channel bot credentials (default: list)");
  channels->require_subcommand(0, 1);
  std::string channel;
  CLI::App* channels_list =
      channels->add_subcommand("list", "every channel and its fields' sources");
  CLI::App* channels_show = channels->add_subcommand(
      "show", "one channel's fields; exit 1 when not every field is configured");
  channels_show->add_option("name", channel, "telegram, discord, slack, twitch or email")
      ->required()
      ->type_name("CHANNEL");
  bool reveal = false;
  channels_show->add_flag("--reveal", reveal, "print secret values instead of ********");
  CLI::App* channels_set = channels->add_subcommand(
      "set", "store fields of a channel (only those given change); - reads a value from stdin");
  channels_set->add_option("name", channel, "telegram, discord, slack, twitch or email")
      ->required()
      ->type_name("CHANNEL");
  std::map<std::string, std::string> channel_values;  // flag -> value
  for (const auto& [flag, field] : ChannelFieldFlags()) {
    channels_set
        ->add_option_function<std::string>(
            flag,
            [&channel_values, flag = flag](const std::string& v) { channel_values[flag] = v; },
            "the channel's " + field + ", or - to read it from stdin")
        // Every field but the email username is a secret: completed as "-" (stdin).
        ->type_name(flag == "--username" ? "VALUE" : "SECRET");
  }
  CLI::App* channels_unset =
      channels->add_subcommand("unset", "clear a channel's credentials in channels.json");
  channels_unset->add_option("name", channel, "telegram, discord, slack, twitch or email")
      ->required()
      ->type_name("CHANNEL");

  // Hidden (no group): the build writes the installed completion scripts with it.
  CLI::App* completion = app.add_subcommand("completion", "print a shell completion script");
  completion->group("");
  std::string completion_shell;
  completion->add_option("shell", completion_shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}))
      ->type_name("SHELL");

  CLI::App* daemon = app.add_subcommand("daemon", "the daemon itself");
  daemon->require_subcommand(1);
  CLI::App* daemon_status = daemon->add_subcommand(
      "status", "version, pid, uptime, socket, files, refresher, requests; exit 1 when unhealthy");

  CLI::App* exec = app.add_subcommand(
      "exec", "run CMD with provider keys in its environment: exec PROVIDER... -- CMD [ARGS...]");
  ExecArguments exec_arguments;
  exec->add_option("providers", exec_arguments.providers,
                   "each key goes in the variable its tools read (OPENAI_API_KEY, ...)")
      ->check(SelectorValidator())
      ->type_name("PROVIDER");
  exec->add_option("--env", exec_arguments.env_bindings, "put PROVIDER's key in VAR")
      ->type_name("VAR=PROVIDER");
  exec->footer(
      "Everything after -- is the command, run as given; keys never go on its command line.");

  CLI::App* fleet = app.add_subcommand("fleet", "the etcd backend several hosts share");
  fleet->require_subcommand(1);
  CLI::App* fleet_keygen = fleet->add_subcommand(
      "keygen", "write a new fleet key (base64 of 32 random bytes, mode 0600) to PATH");
  std::string fleet_key_path;
  fleet_keygen->add_option("path", fleet_key_path, "where to write it; must not exist")
      ->required()
      ->type_name("PATH");

  CLI::App* setup = app.add_subcommand(
      "setup", "make a coding tool ask operator-authd for its key (its own key-command hook)");
  SetupArguments setup_arguments;
  setup->add_option("tool", setup_arguments.tool, "claude-code or codex")
      ->required()
      ->check(CLI::IsMember(SetupTools()))
      ->type_name("TOOL");
  setup
      ->add_option("--settings", setup_arguments.settings_path,
                   "the tool's settings file instead of its default")
      ->type_name("PATH");
  setup->add_flag("--remove", setup_arguments.remove, "take away what setup wrote, nothing else");
  setup->add_flag("--force", setup_arguments.force,
                  "replace a key helper that operatorctl did not write");

  // exec's command follows "--" and is not operatorctl's to parse.
  SeparatedCommandLine command_line = SeparateCommand(argc, argv);
  try {
    app.parse(static_cast<int>(command_line.options.size()), command_line.options.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      app.exit(e);  // --help or --version, printed on stdout
      return kExitOk;
    }
    return ReportParseError(e, set->parsed() || channels_set->parsed() || exec->parsed());
  }
  if (command_line.has_separator && !exec->parsed()) {
    return ReportUsageError("only exec takes a command after --");
  }
  if (api_key_option->count() > 0) set_arguments.api_key = api_key;
  if (completion->parsed()) {
    const CompletionShell shell = completion_shell == "bash"  ? CompletionShell::kBash
                                  : completion_shell == "zsh" ? CompletionShell::kZsh
                                                              : CompletionShell::kFish;
    std::cout << CompletionScript(app, shell);
    return kExitOk;
  }

  // Before AuthCommands: exec must not hold a client (a connection) when CMD replaces it.
  if (exec->parsed()) {
    exec_arguments.command = std::move(command_line.command);
    return RunExec(global, exec_arguments);
  }
  if (setup->parsed()) return RunSetup(global, setup_arguments);
  if (fleet_keygen->parsed()) return RunFleetKeygen(fleet_key_path);
  if (audit->parsed()) return RunAudit(global, audit_arguments);

  AuthCommands commands(global);
  auto run = [&]() {
    if (daemon_status->parsed()) return RunDaemonStatus(global);
    if (channels->parsed()) {
      ChannelCommands channel_commands(global);
      if (channels_show->parsed()) return channel_commands.Show(channel, reveal);
      if (channels_set->parsed()) {
        std::map<std::string, std::string> fields;
        for (const auto& [flag, value] : channel_values) {
          fields[ChannelFieldFlags().at(flag)] = value;
        }
        return channel_commands.Set(channel, fields);
      }
      if (channels_unset->parsed()) return channel_commands.Unset(channel);
      (void)channels_list;
      return channel_commands.List();  // `channels` or `channels list`
    }
    if (list->parsed()) return provider.empty() ? commands.List() : commands.Status(provider);
    if (status->parsed()) return commands.Status(provider);
    if (set->parsed()) return commands.Set(set_arguments);
    if (login->parsed()) {
      return commands.Login(LoginArguments{provider, enterprise_domain, !no_browser, device});
    }
    if (unset->parsed()) return commands.Unset(provider);
    if (token->parsed()) return commands.Token(provider);
    if (make_default->parsed()) return commands.SetDefault(provider, default_account);
    if (import->parsed()) return ImportLogins(global, import_arguments);
    if (unlink->parsed()) return UnlinkVendor(global, unlink_source);
    return commands.List();  // bare `auth`
  };
  const int code = run();
  // A script reading `auth token` through a full disk or a closed pipe must not see success.
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "operatorctl: cannot write to stdout\n";
    return kExitFailure;
  }
  return code;
}

}  // namespace
}  // namespace operator_auth::cli

int main(int argc, char** argv) { return operator_auth::cli::Main(argc, argv); }
