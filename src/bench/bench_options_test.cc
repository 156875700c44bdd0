// Unit tests for bench_options.h: option checks (each a usage error naming the option), notes
// for options a scenario ignores, and the users-file parser. Tests only; no I/O.
#include "bench/bench_options.h"

#include <gtest/gtest.h>

#include <string>

namespace poplar::bench {
namespace {

BenchOptions valid() {
  BenchOptions o;
  o.host = "127.0.0.1";
  o.port = 110;
  o.scenario = "login";
  o.users_file = "users";
  return o;
}

std::string usage_error(const BenchOptions& o) {
  auto plan = make_plan(o);
  EXPECT_FALSE(plan);
  return plan ? "" : plan.status().message();
}

TEST(BenchOptionsTest, DefaultsAreTheDocumentedOnes) {
  auto plan = make_plan(valid());
  ASSERT_TRUE(plan) << plan.status().message();
  EXPECT_EQ(plan->connections, 16u);
  EXPECT_EQ(plan->threads, 1u);
  EXPECT_DOUBLE_EQ(plan->duration_s, 10);
  EXPECT_TRUE(plan->has_deadline);
  EXPECT_EQ(plan->sessions, 0u);
  EXPECT_EQ(plan->passes, 1u);
  EXPECT_EQ(plan->pipeline_depth, 0u);
  EXPECT_EQ(plan->tls, TlsMode::kNone);
  EXPECT_EQ(plan->label, "-");
  EXPECT_TRUE(plan->notes.empty());
}

TEST(BenchOptionsTest, EveryScenarioAndTlsModeByName) {
  for (std::string_view name : {"login", "retr", "retr-pipelined", "uidl", "list", "idle"}) {
    auto scenario = parse_scenario(name);
    ASSERT_TRUE(scenario) << name;
    EXPECT_EQ(scenario_name(*scenario), name);
  }
  EXPECT_FALSE(parse_scenario("LOGIN"));
  for (std::string_view name : {"none", "starttls", "implicit"}) {
    auto mode = parse_tls_mode(name);
    ASSERT_TRUE(mode) << name;
    EXPECT_EQ(tls_mode_name(*mode), name);
  }
  EXPECT_FALSE(parse_tls_mode("stls"));
}

TEST(BenchOptionsTest, BadValuesNameTheOption) {
  auto o = valid();
  o.host = "";
  EXPECT_NE(usage_error(o).find("--host"), std::string::npos);
  o = valid();
  o.port = 0;
  EXPECT_NE(usage_error(o).find("--port"), std::string::npos);
  o.port = 65536;
  EXPECT_NE(usage_error(o).find("--port"), std::string::npos);
  o = valid();
  o.scenario = "";
  EXPECT_NE(usage_error(o).find("--scenario"), std::string::npos);
  o.scenario = "fetch all";
  EXPECT_NE(usage_error(o).find("fetch_all"), std::string::npos);
  o = valid();
  o.users_file = "";
  EXPECT_NE(usage_error(o).find("--users-file"), std::string::npos);
  o = valid();
  o.connections = 0;
  EXPECT_NE(usage_error(o).find("--connections"), std::string::npos);
  o = valid();
  o.threads = -1;
  EXPECT_NE(usage_error(o).find("--threads"), std::string::npos);
  o = valid();
  for (double bad : {0.0, -1.0, 1.0 / 0.0}) {
    o.duration_s = bad;
    EXPECT_NE(usage_error(o).find("--duration"), std::string::npos) << bad;
  }
  o = valid();
  o.sessions = -5;
  EXPECT_NE(usage_error(o).find("--sessions"), std::string::npos);
  o = valid();
  o.passes = 0;
  EXPECT_NE(usage_error(o).find("--passes"), std::string::npos);
  o = valid();
  o.pipeline_depth = -1;
  EXPECT_NE(usage_error(o).find("--pipeline-depth"), std::string::npos);
  o = valid();
  o.tls = "ssl";
  EXPECT_NE(usage_error(o).find("--tls"), std::string::npos);
  o = valid();
  o.tls = "implicit";
  o.ca_file = "ca.pem";
  o.insecure_tls = true;
  EXPECT_NE(usage_error(o).find("--insecure-tls"), std::string::npos);
}

TEST(BenchOptionsTest, FractionalDurationIsAccepted) {
  auto o = valid();
  o.duration_s = 0.25;
  o.duration_given = true;
  auto plan = make_plan(o);
  ASSERT_TRUE(plan);
  EXPECT_DOUBLE_EQ(plan->duration_s, 0.25);
}

TEST(BenchOptionsTest, SessionsAloneHaveNoDeadline) {
  auto o = valid();
  o.sessions = 50;
  auto plan = make_plan(o);
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->has_deadline);
  EXPECT_EQ(plan->sessions, 50u);
  o.duration_given = true;
  plan = make_plan(o);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->has_deadline);
}

TEST(BenchOptionsTest, OptionsAScenarioIgnoresAreNotedNotRefused) {
  auto o = valid();
  o.scenario = "retr";
  o.sessions = 10;
  o.duration_given = true;
  o.pipeline_depth = 4;
  auto plan = make_plan(o);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->sessions, 0u);
  EXPECT_FALSE(plan->has_deadline);
  EXPECT_EQ(plan->notes.size(), 3u);
  o = valid();
  o.passes = 3;
  o.insecure_tls = true;
  plan = make_plan(o);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->notes.size(), 2u);
}

TEST(BenchOptionsTest, LabelBecomesOneToken) {
  auto o = valid();
  o.label = "poplar 0.1\tdebug";
  auto plan = make_plan(o);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->label, "poplar_0.1_debug");
  o.label = "";
  plan = make_plan(o);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->label, "-");
}

TEST(BenchOptionsTest, UsersFileSplitsAtTheFirstColon) {
  auto users = parse_users("alice:secret\r\n\n# a comment\nbob:pa:ss:word\ncarol:\n");
  ASSERT_TRUE(users) << users.status().message();
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].user, "alice");
  EXPECT_EQ((*users)[0].user_command, "USER alice\r\n");
  EXPECT_EQ((*users)[0].pass_command.view(), "PASS secret\r\n");
  EXPECT_EQ((*users)[1].user, "bob");
  EXPECT_EQ((*users)[1].pass_command.view(), "PASS pa:ss:word\r\n");
  EXPECT_EQ((*users)[2].pass_command.view(), "PASS \r\n");
}

TEST(BenchOptionsTest, LastLineWithoutNewline) {
  auto users = parse_users("a:1\nb:2");
  ASSERT_TRUE(users);
  EXPECT_EQ(users->size(), 2u);
}

TEST(BenchOptionsTest, BadUsersFilesNameTheLineButNeverThePassword) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{"alice\n", "line 1: expected user:password"},
           Case{"a:1\n:topsecret\n", "line 2: empty user name"},
           Case{"al ice:topsecret\n", "line 1: a space or control character in the user name"},
           Case{"alice:top\x01secret\n", "line 1: a control character in the password"},
           Case{"alice:topsecret\nbob:x\nalice:y\n", "line 3: user alice is listed twice"},
           Case{"# only a comment\n\n", "no user:password line"},
       }) {
    auto users = parse_users(c.text);
    ASSERT_FALSE(users) << c.text;
    EXPECT_NE(users.status().message().find(c.message), std::string::npos)
        << users.status().message();
    EXPECT_EQ(users.status().message().find("secret"), std::string::npos);
  }
}

}  // namespace
}  // namespace poplar::bench
