// Tests for SASL PLAIN: client ↔ server in-process, and every malformed message RFC 4616 names.
#include "sasl/plain.h"

#include <gtest/gtest.h>

#include <string>

namespace poplar::sasl {
namespace {

using Kind = ServerStep::Kind;

ClientCredentials creds(std::string user, std::string password, std::string authzid = {}) {
  ClientCredentials c;
  c.authcid = std::move(user);
  c.password = Secret(password);
  c.authzid = std::move(authzid);
  return c;
}

ServerStep parse(std::string_view message) { return make_plain_server()->start(message); }

TEST(Plain, PairWithInitialResponse) {
  auto client = make_plain_client(creds("tim", "tanstaaf"));
  auto server = make_plain_server();
  std::optional<std::string> ir = client->initial_response();
  ASSERT_TRUE(ir);
  ServerStep step = server->start(*ir);
  ASSERT_EQ(step.kind, Kind::kCheckPassword);
  EXPECT_EQ(step.user, "tim");
  EXPECT_EQ(step.password_check.authcid, "tim");
  EXPECT_EQ(step.password_check.authzid, "");
  EXPECT_EQ(step.password_check.password.view(), "tanstaaf");
  EXPECT_TRUE(client->complete());
}

TEST(Plain, PairWithoutInitialResponse) {
  auto client = make_plain_client(creds("tim", "secret", "tim"));
  auto server = make_plain_server();
  ServerStep first = server->start(std::nullopt);
  ASSERT_EQ(first.kind, Kind::kChallenge);
  EXPECT_EQ(first.data, "");
  ClientStep reply = client->step(first.data);
  ASSERT_EQ(reply.kind, ClientStep::Kind::kRespond);
  ServerStep step = server->step(reply.response);
  ASSERT_EQ(step.kind, Kind::kCheckPassword);
  EXPECT_EQ(step.password_check.authzid, "tim");
  // A second challenge makes no sense to the client.
  EXPECT_EQ(client->step("").kind, ClientStep::Kind::kFailure);
}

TEST(Plain, AcceptsLongFieldsAndUtf8) {
  std::string user(255, 'u');
  std::string password(255, 'p');
  // RFC 4616 §2: each field up to 255 octets MUST be accepted.
  ServerStep ok = parse(user + '\0' + user + '\0' + password);
  ASSERT_EQ(ok.kind, Kind::kCheckPassword);
  EXPECT_EQ(ok.password_check.password.size(), 255u);
  EXPECT_EQ(parse(std::string("\0j\xc3\xbcrgen\0p\xc3\xa4ss", 14)).kind, Kind::kCheckPassword);
}

TEST(Plain, MalformedMessagesFail) {
  using namespace std::string_literals;
  EXPECT_EQ(parse("").kind, Kind::kFailure);
  EXPECT_EQ(parse("nonul").kind, Kind::kFailure);
  EXPECT_EQ(parse("\0user"s).kind, Kind::kFailure);             // one NUL
  EXPECT_EQ(parse("\0user\0pass\0"s).kind, Kind::kFailure);     // three NULs
  EXPECT_EQ(parse("\0\0pass"s).kind, Kind::kFailure);           // empty authcid
  EXPECT_EQ(parse("\0user\0"s).kind, Kind::kFailure);           // empty password
  EXPECT_EQ(parse("other\0user\0pass"s).kind, Kind::kFailure);  // proxy authzid
  EXPECT_EQ(parse("\0us\xff"
                  "er\0pass"s)
                .kind,
            Kind::kFailure);                                 // bad UTF-8 user
  EXPECT_EQ(parse("\0user\0pa\xc3"s).kind, Kind::kFailure);  // bad UTF-8 password
  EXPECT_EQ(parse("\0"s + std::string(kPlainMaxFieldOctets + 1, 'u') + "\0p"s).kind,
            Kind::kFailure);
}

TEST(Plain, FailureReasonNeverHoldsThePassword) {
  using namespace std::string_literals;
  ServerStep step = parse("other\0user\0hunter2"s);
  ASSERT_EQ(step.kind, Kind::kFailure);
  EXPECT_EQ(step.reason.find("hunter2"), std::string::npos);
}

TEST(Plain, StepAfterTheEndFails) {
  using namespace std::string_literals;
  auto server = make_plain_server();
  ASSERT_EQ(server->start("\0user\0pass"s).kind, Kind::kCheckPassword);
  EXPECT_EQ(server->step("\0user\0pass"s).kind, Kind::kFailure);
  EXPECT_EQ(server->on_scram_credentials(Status::temporary("x")).kind, Kind::kFailure);
}

TEST(Plain, CancelMidwayLeavesNothingBehind) {
  // "*" from the client ends the exchange in the driver; the mechanism is simply dropped.
  auto server = make_plain_server();
  EXPECT_EQ(server->start(std::nullopt).kind, Kind::kChallenge);
  server.reset();
  SUCCEED();
}

}  // namespace
}  // namespace poplar::sasl
