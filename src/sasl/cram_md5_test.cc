// Tests for SASL CRAM-MD5: the RFC 2195 §2 example, fresh challenges, client ↔ server pairs and
// malformed responses.
#include "sasl/cram_md5.h"

#include <gtest/gtest.h>

#include "testing/fake_random.h"

namespace poplar::sasl {
namespace {

using Kind = ServerStep::Kind;

constexpr std::string_view kRfcChallenge = "<1896.697170952@postoffice.reston.mci.net>";
constexpr std::string_view kRfcDigest = "b913a602c7eda7a495b4e6e7334d3890";

ClientCredentials creds(std::string user, std::string password) {
  ClientCredentials c;
  c.authcid = std::move(user);
  c.password = Secret(password);
  return c;
}

ServerContext context(Random* random) {
  ServerContext c;
  c.hostname = "pop.example.org";
  c.random = random;
  c.unix_time = 1700000000;
  return c;
}

TEST(CramMd5, Rfc2195Example) {
  EXPECT_EQ(cram_md5_hex("tanstaaftanstaaf", kRfcChallenge), kRfcDigest);
  auto server = make_cram_md5_server(ServerContext{}, std::string(kRfcChallenge));
  ServerStep step = server->start(std::nullopt);
  ASSERT_EQ(step.kind, Kind::kChallenge);
  EXPECT_EQ(step.data, kRfcChallenge);
  auto client = make_cram_md5_client(creds("tim", "tanstaaftanstaaf"));
  ClientStep reply = client->step(step.data);
  ASSERT_EQ(reply.kind, ClientStep::Kind::kRespond);
  EXPECT_EQ(reply.response, "tim " + std::string(kRfcDigest));
  step = server->step(reply.response);
  ASSERT_EQ(step.kind, Kind::kCheckCramMd5);
  EXPECT_EQ(step.user, "tim");
  EXPECT_EQ(step.cram_check.user, "tim");
  EXPECT_EQ(step.cram_check.challenge, kRfcChallenge);
  EXPECT_EQ(step.cram_check.digest_hex, kRfcDigest);
  EXPECT_TRUE(client->complete());
}

TEST(CramMd5, ChallengeShapeAndUniqueness) {
  testing::FakeRandom random(7);
  ServerContext ctx = context(&random);
  std::string a = make_cram_md5_server(ctx)->start(std::nullopt).data;
  std::string b = make_cram_md5_server(ctx)->start(std::nullopt).data;
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with("<"));
  EXPECT_TRUE(a.ends_with(".1700000000@pop.example.org>"));
}

TEST(CramMd5, WrongPasswordGivesOtherDigest) {
  auto server = make_cram_md5_server(ServerContext{}, std::string(kRfcChallenge));
  auto client = make_cram_md5_client(creds("tim", "wrong"));
  ServerStep step = server->step(client->step(server->start(std::nullopt).data).response);
  ASSERT_EQ(step.kind, Kind::kCheckCramMd5);
  EXPECT_NE(step.cram_check.digest_hex, kRfcDigest);  // auth/ then says no
}

TEST(CramMd5, UppercaseDigestIsLowered) {
  auto server = make_cram_md5_server(ServerContext{}, std::string(kRfcChallenge));
  server->start(std::nullopt);
  ServerStep step = server->step("tim B913A602C7EDA7A495B4E6E7334D3890");
  ASSERT_EQ(step.kind, Kind::kCheckCramMd5);
  EXPECT_EQ(step.cram_check.digest_hex, kRfcDigest);
}

TEST(CramMd5, UserWithSpace) {
  auto server = make_cram_md5_server(ServerContext{});
  server->start(std::nullopt);
  ServerStep step = server->step("tim smith " + std::string(kRfcDigest));
  ASSERT_EQ(step.kind, Kind::kCheckCramMd5);
  EXPECT_EQ(step.user, "tim smith");
}

TEST(CramMd5, MalformedResponsesFail) {
  for (std::string bad :
       {std::string(""), std::string("tim"), " " + std::string(kRfcDigest),
        "tim " + std::string(kRfcDigest) + "0", "tim " + std::string(kRfcDigest.substr(1)),
        std::string("tim b913a602c7eda7a495b4e6e7334d389g"), "tim\xff " + std::string(kRfcDigest),
        "tim " + std::string(kRfcDigest) + " "}) {
    auto server = make_cram_md5_server(ServerContext{});
    server->start(std::nullopt);
    EXPECT_EQ(server->step(bad).kind, Kind::kFailure) << bad;
  }
}

TEST(CramMd5, InitialResponseFails) {
  EXPECT_EQ(make_cram_md5_server(ServerContext{})->start("tim").kind, Kind::kFailure);
  EXPECT_EQ(make_cram_md5_server(ServerContext{})->start("").kind, Kind::kChallenge);
}

TEST(CramMd5, SecondResponseFails) {
  auto server = make_cram_md5_server(ServerContext{});
  server->start(std::nullopt);
  ASSERT_EQ(server->step("tim " + std::string(kRfcDigest)).kind, Kind::kCheckCramMd5);
  EXPECT_EQ(server->step("tim " + std::string(kRfcDigest)).kind, Kind::kFailure);
}

TEST(CramMd5, ClientRejectsEmptyOrRepeatedChallenge) {
  auto client = make_cram_md5_client(creds("tim", "x"));
  EXPECT_FALSE(client->initial_response());
  EXPECT_EQ(client->step("").kind, ClientStep::Kind::kFailure);
  auto other = make_cram_md5_client(creds("tim", "x"));
  EXPECT_EQ(other->step("<a@b>").kind, ClientStep::Kind::kRespond);
  EXPECT_EQ(other->step("<a@b>").kind, ClientStep::Kind::kFailure);
}

}  // namespace
}  // namespace poplar::sasl
