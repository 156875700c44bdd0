// Tests for SASL LOGIN: client ↔ server in-process, the Dovecot-style initial response, and
// malformed input at each step.
#include "sasl/login.h"

#include <gtest/gtest.h>

namespace poplar::sasl {
namespace {

using Kind = ServerStep::Kind;

ClientCredentials creds(std::string user, std::string password) {
  ClientCredentials c;
  c.authcid = std::move(user);
  c.password = Secret(password);
  return c;
}

TEST(Login, Pair) {
  auto client = make_login_client(creds("alice", "s3cret"));
  auto server = make_login_server();
  EXPECT_FALSE(client->initial_response());
  ServerStep step = server->start(std::nullopt);
  ASSERT_EQ(step.kind, Kind::kChallenge);
  EXPECT_EQ(step.data, "Username:");
  ClientStep reply = client->step(step.data);
  ASSERT_EQ(reply.kind, ClientStep::Kind::kRespond);
  EXPECT_FALSE(client->complete());
  step = server->step(reply.response);
  ASSERT_EQ(step.kind, Kind::kChallenge);
  EXPECT_EQ(step.data, "Password:");
  reply = client->step(step.data);
  ASSERT_EQ(reply.kind, ClientStep::Kind::kRespond);
  step = server->step(reply.response);
  ASSERT_EQ(step.kind, Kind::kCheckPassword);
  EXPECT_EQ(step.user, "alice");
  EXPECT_EQ(step.password_check.authcid, "alice");
  EXPECT_EQ(step.password_check.password.view(), "s3cret");
  EXPECT_TRUE(client->complete());
  EXPECT_EQ(client->step("more?").kind, ClientStep::Kind::kFailure);
  EXPECT_EQ(server->step("again").kind, Kind::kFailure);
}

TEST(Login, InitialResponseIsTheUserName) {
  auto server = make_login_server();
  ServerStep step = server->start("bob");
  ASSERT_EQ(step.kind, Kind::kChallenge);
  EXPECT_EQ(step.data, "Password:");
  step = server->step("pw");
  ASSERT_EQ(step.kind, Kind::kCheckPassword);
  EXPECT_EQ(step.user, "bob");
}

TEST(Login, EmptyInitialResponseAsksForTheUser) {
  auto server = make_login_server();
  EXPECT_EQ(server->start("").data, "Username:");
}

TEST(Login, MalformedUserFails) {
  EXPECT_EQ(make_login_server()->start(std::string_view("a\0b", 3)).kind, Kind::kFailure);
  EXPECT_EQ(make_login_server()->start("\xff").kind, Kind::kFailure);
  EXPECT_EQ(make_login_server()->start(std::string(kLoginMaxFieldOctets + 1, 'a')).kind,
            Kind::kFailure);
  auto server = make_login_server();
  server->start(std::nullopt);
  EXPECT_EQ(server->step("").kind, Kind::kFailure);
}

TEST(Login, MalformedPasswordFails) {
  auto server = make_login_server();
  server->start("bob");
  EXPECT_EQ(server->step("").kind, Kind::kFailure);
  server = make_login_server();
  server->start("bob");
  EXPECT_EQ(server->step(std::string_view("p\0w", 3)).kind, Kind::kFailure);
}

TEST(Login, EightBitPasswordsPass) {
  auto server = make_login_server();
  server->start("bob");
  EXPECT_EQ(server->step("p\xe4ss").kind, Kind::kCheckPassword);
}

TEST(Login, CancelAfterUser) {
  auto server = make_login_server();
  server->start("bob");
  server.reset();  // the driver drops it on "*"
  SUCCEED();
}

}  // namespace
}  // namespace poplar::sasl
