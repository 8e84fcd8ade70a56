#include "daemon/core/client_rules.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "daemon/core/audit_sink.h"
#include "daemon/core/client_gate.h"
#include "daemon/oauth/authd_config_file.h"

namespace operator_auth {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kSource[] = "/home/u/.operator/authd.json";

PeerIdentity Peer(std::string exe, std::string unit) {
  PeerIdentity peer;
  peer.pid = 1234;
  peer.exe = std::move(exe);
  peer.unit = std::move(unit);
  return peer;
}

ClientRules Rules(std::vector<ClientRule> rules, ClientsDefault default_decision) {
  absl::StatusOr<ClientRules> built =
      ClientRules::Create(std::move(rules), default_decision, ProviderRegistry::BuiltIn());
  EXPECT_TRUE(built.ok()) << built.status();
  return built.ok() ? *std::move(built) : ClientRules();
}

// The error authd.json `root` gives; fails the test when it parses.
std::string ConfigError(const Json& root) {
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(root.dump(), kSource);
  EXPECT_FALSE(config.ok()) << root.dump();
  return config.ok() ? std::string() : std::string(config.status().message());
}

Json OneRule(Json rule) { return Json{{"clients", Json::array({std::move(rule)})}}; }

TEST(ClientRules, ExeGlobMatchesTheWholeResolvedPath) {
  ClientRules rules = Rules({{"agents", "/opt/agents/*", "", {"openai"}}}, ClientsDefault::kAllow);
  const PeerIdentity agent = Peer("/opt/agents/bin/node", "");
  ClientDecision d = rules.Decide(&agent, "openai", "");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rule, "agents");
  d = rules.Decide(&agent, "anthropic", "");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "agents");
  const PeerIdentity other = Peer("/usr/bin/python3", "");
  d = rules.Decide(&other, "anthropic", "");
  EXPECT_TRUE(d.allowed) << "no rule matches: the default (allow) applies";
  EXPECT_EQ(d.rule, "");
}

TEST(ClientRules, UnitGlobMatchesTheUnitName) {
  ClientRules rules =
      Rules({{"scoped", "", "app-agent-*.scope", {"anthropic"}}}, ClientsDefault::kAllow);
  const PeerIdentity in_scope = Peer("/usr/bin/node", "app-agent-42.scope");
  EXPECT_FALSE(rules.Decide(&in_scope, "openai", "").allowed);
  EXPECT_TRUE(rules.Decide(&in_scope, "anthropic", "").allowed);
  const PeerIdentity elsewhere = Peer("/usr/bin/node", "other.service");
  EXPECT_TRUE(rules.Decide(&elsewhere, "openai", "").allowed);
}

TEST(ClientRules, WithExeAndUnitBothMustMatch) {
  ClientRules rules =
      Rules({{"both", "/usr/bin/node", "agent.service", {}}}, ClientsDefault::kAllow);
  const PeerIdentity both = Peer("/usr/bin/node", "agent.service");
  const PeerIdentity exe_only = Peer("/usr/bin/node", "shell.service");
  const PeerIdentity unit_only = Peer("/usr/bin/python3", "agent.service");
  EXPECT_FALSE(rules.Decide(&both, "openai", "").allowed);
  EXPECT_EQ(rules.Decide(&both, "openai", "").rule, "both");
  EXPECT_TRUE(rules.Decide(&exe_only, "openai", "").allowed);
  EXPECT_TRUE(rules.Decide(&unit_only, "openai", "").allowed);
}

TEST(ClientRules, TheFirstMatchingRuleDecides) {
  ClientRules rules =
      Rules({{"narrow", "/usr/bin/node", "", {"openai"}}, {"broad", "/usr/bin/*", "", {"*"}}},
            ClientsDefault::kDeny);
  const PeerIdentity node = Peer("/usr/bin/node", "");
  const PeerIdentity python = Peer("/usr/bin/python3", "");
  EXPECT_FALSE(rules.Decide(&node, "anthropic", "").allowed);
  EXPECT_EQ(rules.Decide(&node, "anthropic", "").rule, "narrow");
  EXPECT_TRUE(rules.Decide(&python, "anthropic", "").allowed);
  EXPECT_EQ(rules.Decide(&python, "anthropic", "").rule, "broad");
}

TEST(ClientRules, TheDefaultDecidesForClientsNoRuleMatchesAndUnknownOnes) {
  for (ClientsDefault def : {ClientsDefault::kAllow, ClientsDefault::kDeny}) {
    ClientRules rules = Rules({{"any", "*", "", {"*"}}}, def);
    const bool allow = def == ClientsDefault::kAllow;
    EXPECT_EQ(rules.Decide(nullptr, "openai", "").allowed, allow);
    const PeerIdentity unreadable = Peer("", "");
    EXPECT_EQ(rules.Decide(&unreadable, "openai", "").allowed, allow)
        << "an exe that could not be read matches no glob, not even *";
    EXPECT_EQ(rules.DecideChannel(nullptr, "telegram").allowed, allow);
    const PeerIdentity known = Peer("/bin/true", "");
    EXPECT_TRUE(rules.Decide(&known, "openai", "").allowed);
  }
  ClientRules none = Rules({}, ClientsDefault::kDeny);
  EXPECT_FALSE(none.AllowsEverything());
  const PeerIdentity known = Peer("/bin/true", "");
  EXPECT_FALSE(none.Decide(&known, "openai", "").allowed);
  EXPECT_TRUE(ClientRules().AllowsEverything());
  EXPECT_TRUE(ClientRules().Decide(nullptr, "openai", "").allowed);
}

TEST(ClientRules, AliasesStandForTheirProviderInRulesAndRequests) {
  ClientRules rules =
      Rules({{"claude-only", "/usr/bin/node", "", {"claude"}}}, ClientsDefault::kDeny);
  const PeerIdentity node = Peer("/usr/bin/node", "");
  EXPECT_TRUE(rules.Decide(&node, "anthropic-claude-code", "").allowed);
  EXPECT_TRUE(rules.Decide(&node, "claude", "").allowed);
  EXPECT_FALSE(rules.Decide(&node, "anthropic", "").allowed);
  ClientRules by_id = Rules({{"id", "/usr/bin/node", "", {"openai-codex"}}}, ClientsDefault::kDeny);
  EXPECT_TRUE(by_id.Decide(&node, "codex", "").allowed);
}

TEST(ClientRules, AProviderAllowsEveryAccountAndProviderAtAccountOnlyThatOne) {
  ClientRules rules =
      Rules({{"r", "/usr/bin/node", "", {"openai", "anthropic@work"}}}, ClientsDefault::kAllow);
  const PeerIdentity node = Peer("/usr/bin/node", "");
  EXPECT_TRUE(rules.Decide(&node, "openai", "").allowed);
  EXPECT_TRUE(rules.Decide(&node, "openai", "personal").allowed);
  EXPECT_TRUE(rules.Decide(&node, "anthropic", "work").allowed);
  EXPECT_FALSE(rules.Decide(&node, "anthropic", "personal").allowed);
  EXPECT_FALSE(rules.Decide(&node, "anthropic", "").allowed)
      << "the default account, name unknown, is not \"work\"";
  EXPECT_TRUE(rules.Decide(&node, "anthropic", "", "work").allowed)
      << "the default account is called work";
  EXPECT_FALSE(rules.Decide(&node, "anthropic", "", "personal").allowed);
  EXPECT_FALSE(rules.Decide(&node, "anthropic", "other", "work").allowed)
      << "a named account is not the default's name";
}

TEST(ClientRules, ChannelsAreAllowedByNameByChannelStarOrByStar) {
  ClientRules rules = Rules({{"bot", "/srv/bot", "", {"channel:telegram"}},
                             {"bots", "/srv/bots/*", "", {"channel:*"}},
                             {"all", "/srv/all", "", {"*"}},
                             {"keys", "/srv/keys", "", {"openai"}}},
                            ClientsDefault::kAllow);
  const PeerIdentity bot = Peer("/srv/bot", "");
  const PeerIdentity bots = Peer("/srv/bots/x", "");
  const PeerIdentity all = Peer("/srv/all", "");
  const PeerIdentity keys = Peer("/srv/keys", "");
  EXPECT_TRUE(rules.DecideChannel(&bot, "telegram").allowed);
  EXPECT_FALSE(rules.DecideChannel(&bot, "slack").allowed);
  EXPECT_FALSE(rules.Decide(&bot, "openai", "").allowed) << "a channel is not a provider";
  EXPECT_TRUE(rules.DecideChannel(&bots, "slack").allowed);
  EXPECT_FALSE(rules.Decide(&bots, "openai", "").allowed);
  EXPECT_TRUE(rules.DecideChannel(&all, "email").allowed);
  EXPECT_TRUE(rules.Decide(&all, "openai", "x").allowed);
  EXPECT_FALSE(rules.DecideChannel(&keys, "telegram").allowed);
}

TEST(ClientRules, ARefusalNamesTheRuleAndWhatWasAsked) {
  absl::Status s = ClientRules::Refusal({false, "sandboxed-agent"}, "anthropic@work");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "client rule \"sandboxed-agent\" does not allow anthropic@work");
  s = ClientRules::Refusal({false, ""}, "openai");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("clients_default is \"deny\""));
}

TEST(ClientRules, ParsedFromAuthdJsonWithConfiguredAliases) {
  Json root = {{"aliases", {{"work", "anthropic"}}},
               {"clients_default", "deny"},
               {"clients", Json::array({Json{{"name", "agent"},
                                             {"exe", "/usr/bin/node"},
                                             {"unit", "agent.service"},
                                             {"allow", {"work", "channel:slack"}}}})}};
  absl::StatusOr<DaemonConfig> config = ParseDaemonConfig(root.dump(), kSource);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->client_rules.size(), 1u);
  EXPECT_EQ(config->client_rules.default_decision(), ClientsDefault::kDeny);
  const PeerIdentity agent = Peer("/usr/bin/node", "agent.service");
  EXPECT_TRUE(config->client_rules.Decide(&agent, "anthropic", "").allowed);
  EXPECT_TRUE(config->client_rules.DecideChannel(&agent, "slack").allowed);
  EXPECT_FALSE(config->client_rules.Decide(&agent, "openai", "").allowed);

  absl::StatusOr<DaemonConfig> none = ParseDaemonConfig("{}", kSource);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->client_rules.AllowsEverything());
}

TEST(ClientRules, MalformedRulesAreErrorsNamingTheRuleAndField) {
  const Json good = {{"name", "a"}, {"exe", "/usr/bin/node"}, {"allow", {"openai"}}};
  auto with = [&good](const char* key, Json value) {
    Json rule = good;
    rule[key] = std::move(value);
    return rule;
  };
  auto without = [&good](const char* key) {
    Json rule = good;
    rule.erase(key);
    return rule;
  };
  EXPECT_EQ(ConfigError({{"clients", {{"name", "a"}}}}),
            std::string(kSource) + ": clients: must be an array of rules");
  EXPECT_EQ(ConfigError(OneRule(Json::array())),
            std::string(kSource) + ": clients[0]: must be an object");
  EXPECT_EQ(ConfigError(OneRule(with("nmae", "x"))),
            std::string(kSource) +
                ": clients[0].nmae: unknown key (a rule has name, exe, unit and allow)");
  EXPECT_EQ(ConfigError(OneRule(without("name"))),
            std::string(kSource) + ": clients[0].name: required");
  EXPECT_EQ(ConfigError(OneRule(with("name", 7))),
            std::string(kSource) + ": clients[0].name: must be a string");
  EXPECT_THAT(ConfigError(OneRule(with("name", "two words"))),
              HasSubstr("clients[0].name: must be"));
  EXPECT_EQ(ConfigError(OneRule(without("allow"))),
            std::string(kSource) + ": clients[0].allow: required (an array; [] allows nothing)");
  EXPECT_EQ(ConfigError(OneRule(with("allow", "openai"))),
            std::string(kSource) + ": clients[0].allow: must be an array of strings");
  EXPECT_EQ(ConfigError(OneRule(with("allow", {"openai", 3}))),
            std::string(kSource) + ": clients[0].allow: must be an array of strings");
  EXPECT_THAT(ConfigError(OneRule(without("exe"))),
              HasSubstr("clients[0] (\"a\"): needs \"exe\", \"unit\" or both"));
  EXPECT_THAT(ConfigError(OneRule(with("exe", ""))),
              HasSubstr("clients[0].exe: must not be empty"));
  EXPECT_THAT(ConfigError(OneRule(with("exe", "node"))),
              HasSubstr("clients[0] (\"a\").exe: must be an absolute path glob"));
  EXPECT_THAT(ConfigError(OneRule(with("unit", "user.slice/agent.service"))),
              HasSubstr("clients[0] (\"a\").unit: must match a unit name"));
  EXPECT_THAT(ConfigError(OneRule(with("allow", {"openai", "Bad Id!"}))),
              HasSubstr("clients[0] (\"a\").allow[1]: must be \"*\", \"PROVIDER\""));
  EXPECT_THAT(ConfigError(OneRule(with("allow", {"anthropic@"}))),
              HasSubstr("clients[0] (\"a\").allow[0]: the part after '@': account name"));
  EXPECT_THAT(ConfigError(OneRule(with("allow", {"anthropic@a@b"}))),
              HasSubstr("clients[0] (\"a\").allow[0]: the part after '@': account name"));
  EXPECT_THAT(ConfigError(OneRule(with("allow", {"channel:pager"}))),
              HasSubstr("clients[0] (\"a\").allow[0]: "));
  Json two = {{"clients", Json::array({good, good})}};
  EXPECT_THAT(ConfigError(two),
              HasSubstr("clients[1] (\"a\").name: another rule has the same name"));
  EXPECT_EQ(ConfigError({{"clients_default", "maybe"}}),
            std::string(kSource) + ": clients_default: must be \"allow\" or \"deny\"");
}

class RecordingSink : public AuditSink {
 public:
  void Record(AuditRecord record) override { records.push_back(std::move(record)); }
  std::vector<AuditRecord> records;
};

TEST(ClientGate, ChecksAgainstTheRulesInForceAndSwapsThemWhole) {
  RecordingSink sink;
  ClientGate gate(nullptr, &sink);
  auto peer = std::make_shared<PeerIdentity>(Peer("/usr/bin/node", "agent.service"));
  std::string rule;
  EXPECT_TRUE(gate.CheckProvider(peer.get(), "anthropic", "", rule).ok());
  EXPECT_EQ(rule, "");
  gate.SetRules(std::make_shared<const ClientRules>(
      Rules({{"agent", "/usr/bin/node", "", {"openai"}}}, ClientsDefault::kAllow)));
  absl::Status denied = gate.CheckProvider(peer.get(), "anthropic", "work", rule);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "client rule \"agent\" does not allow anthropic@work");
  EXPECT_EQ(rule, "agent");
  absl::Status channel = gate.CheckChannel(peer.get(), "telegram", rule);
  EXPECT_EQ(channel.message(), "client rule \"agent\" does not allow channel:telegram");
  EXPECT_TRUE(gate.CheckProvider(peer.get(), "openai", "", rule).ok());

  gate.Record("GetApiKey", peer, rule, "openai", "", absl::OkStatus());
  gate.Record("GetApiKey", peer, "agent", "anthropic", "work", denied);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].outcome, "ok");
  EXPECT_EQ(sink.records[0].peer, peer);
  EXPECT_STREQ(sink.records[0].method, "GetApiKey");
  EXPECT_EQ(sink.records[0].rule, "agent");
  EXPECT_EQ(sink.records[1].outcome, "PERMISSION_DENIED");
  EXPECT_EQ(sink.records[1].account, "work");

  ClientGate silent(nullptr, nullptr);
  EXPECT_FALSE(silent.auditing());
  silent.Record("GetApiKey", peer, "", "openai", "", absl::OkStatus());  // nothing to record to
}

TEST(ClientGate, RulesSwappedWhileCallsAreCheckedGiveEachCallOneWholeSet) {
  ClientGate gate(nullptr, nullptr);
  auto deny_anthropic = std::make_shared<const ClientRules>(
      Rules({{"agent", "/usr/bin/node", "", {"openai"}}}, ClientsDefault::kAllow));
  auto allow_all = std::make_shared<const ClientRules>();
  const PeerIdentity peer = Peer("/usr/bin/node", "");
  std::atomic<bool> stop{false};
  std::atomic<int> checks{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      while (!stop.load()) {
        std::string rule;
        absl::Status s = gate.CheckProvider(&peer, "anthropic", "", rule);
        checks.fetch_add(1);
        // Either set, never a mix: a refusal always names the rule that matched.
        if (!s.ok()) {
          if (rule != "agent") wrong.fetch_add(1);
        } else if (!rule.empty()) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (int i = 0; checks.load() < 20000; ++i) {
    gate.SetRules(i % 2 == 0 ? deny_anthropic : allow_all);
  }
  gate.SetRules(deny_anthropic);
  std::string rule;
  EXPECT_FALSE(gate.CheckProvider(&peer, "anthropic", "", rule).ok());
  stop.store(true);
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace operator_auth
