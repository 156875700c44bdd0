// Unit tests for capabilities.h: CAPA lines per state and config (RFC 2449 §5, §6).
// Tests only; no I/O.
#include "pop3/capabilities.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace poplar::pop3 {
namespace {

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// CAPA as a fresh session without TLS would compute it.
std::vector<std::string> capabilities(const SessionConfig& config, SessionState state) {
  CapaState now;
  now.state = state;
  now.plaintext_allowed = config.plaintext_allowed;
  return pop3::capabilities(config, now);
}

TEST(CapabilitiesTest, DefaultsBeforeLogin) {
  SessionConfig config;
  auto lines = capabilities(config, SessionState::kAuthorization);
  EXPECT_EQ(lines,
            (std::vector<std::string>{"TOP", "UIDL", "USER", "UTF8 USER", "LANG", "RESP-CODES",
                                      "PIPELINING", "AUTH-RESP-CODE", "EXPIRE NEVER"}));
}

TEST(CapabilitiesTest, Pop4LineOnlyWithAnAbilityInBothStates) {
  SessionConfig config;
  EXPECT_EQ(pop4_capability(config.pop4), "");
  for (SessionState state : {SessionState::kAuthorization, SessionState::kTransaction}) {
    for (const std::string& line : capabilities(config, state)) {
      EXPECT_NE(line.rfind("X-POP4", 0), 0u) << line;  // plain POP3 sees no difference
    }
  }
  config.pop4.parts = true;
  EXPECT_EQ(pop4_capability(config.pop4), "X-POP4 PARTS");
  for (SessionState state : {SessionState::kAuthorization, SessionState::kTransaction}) {
    EXPECT_TRUE(has(capabilities(config, state), "X-POP4 PARTS"));  // POP4.md: both states
  }
}

TEST(CapabilitiesTest, ImplementationOnlyAfterLogin) {
  SessionConfig config;
  config.implementation = "Poplar-0.1";
  EXPECT_FALSE(
      has(capabilities(config, SessionState::kAuthorization), "IMPLEMENTATION Poplar-0.1"));
  EXPECT_TRUE(has(capabilities(config, SessionState::kTransaction), "IMPLEMENTATION Poplar-0.1"));
  config.implementation.clear();
  EXPECT_EQ(capabilities(config, SessionState::kTransaction).size(),
            capabilities(config, SessionState::kAuthorization).size());
}

TEST(CapabilitiesTest, EverythingBeforeLoginIsAlsoShownAfter) {
  SessionConfig config;
  config.login_delay_s = 300;
  config.expire_days = 0;
  for (bool plaintext : {true, false}) {
    config.plaintext_allowed = plaintext;
    auto before = capabilities(config, SessionState::kAuthorization);
    auto after = capabilities(config, SessionState::kTransaction);
    for (const auto& line : before) {
      EXPECT_TRUE(has(after, line)) << line;  // RFC 2449 §5
    }
  }
}

TEST(CapabilitiesTest, UserOnlyWherePlaintextIsAllowed) {
  SessionConfig config;
  config.plaintext_allowed = false;
  EXPECT_FALSE(has(capabilities(config, SessionState::kAuthorization), "USER"));
  EXPECT_FALSE(has(capabilities(config, SessionState::kTransaction), "USER"));
}

TEST(CapabilitiesTest, ExpireAndLoginDelayValues) {
  SessionConfig config;
  config.expire_days = 30;
  config.login_delay_s = 900;
  auto lines = capabilities(config, SessionState::kAuthorization);
  EXPECT_TRUE(has(lines, "EXPIRE 30"));
  EXPECT_TRUE(has(lines, "LOGIN-DELAY 900"));
  config.login_delay_s = 0;
  for (const auto& l : capabilities(config, SessionState::kAuthorization)) {
    EXPECT_NE(l.rfind("LOGIN-DELAY", 0), 0u);
  }
}

TEST(CapabilitiesTest, NoSaslOrStlsWhenNoneIsUsable) {
  SessionConfig config;
  for (const auto& l : capabilities(config, SessionState::kAuthorization)) {
    EXPECT_NE(l.rfind("SASL", 0), 0u);
    EXPECT_NE(l, "STLS");
  }
}

TEST(CapabilitiesTest, SaslListsTheUsableMechanismsAndStlsWhenAvailable) {
  SessionConfig config;
  CapaState now;
  now.plaintext_allowed = false;
  now.stls_available = true;
  now.sasl_mechanisms = {"SCRAM-SHA-256", "CRAM-MD5"};
  auto lines = pop3::capabilities(config, now);
  EXPECT_EQ(lines, (std::vector<std::string>{"TOP", "UIDL", "STLS", "SASL SCRAM-SHA-256 CRAM-MD5",
                                             "UTF8 USER", "LANG", "RESP-CODES", "PIPELINING",
                                             "AUTH-RESP-CODE", "EXPIRE NEVER"}));
}

}  // namespace
}  // namespace poplar::pop3
