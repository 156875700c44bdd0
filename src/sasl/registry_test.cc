// Tests for the mechanism registry: preference order, plaintext policy, -PLUS advertising and
// factories by name.
#include "sasl/registry.h"

#include <gtest/gtest.h>

#include "testing/fake_random.h"

namespace poplar::sasl {
namespace {

using Names = std::vector<std::string>;

ChannelBindings tls() {
  ChannelBindings b;
  b.tls_active = true;
  b.tls_exporter = std::string(32, 'x');
  return b;
}

TEST(Registry, KnownMechanismsStrongestFirst) {
  EXPECT_EQ(known_mechanisms(), (Names{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
                                       "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"}));
}

TEST(Registry, PlaintextMechanisms) {
  EXPECT_TRUE(sends_plaintext_password("plain"));
  EXPECT_TRUE(sends_plaintext_password("LOGIN"));
  EXPECT_FALSE(sends_plaintext_password("CRAM-MD5"));
  EXPECT_FALSE(sends_plaintext_password("SCRAM-SHA-256"));
}

TEST(Registry, AdvertisedInPreferenceOrder) {
  Names configured = {"login", "PLAIN", "scram-sha-256", "CRAM-MD5"};
  EXPECT_EQ(advertised_mechanisms(configured, true, {}),
            (Names{"SCRAM-SHA-256", "CRAM-MD5", "PLAIN", "LOGIN"}));
  EXPECT_EQ(advertised_mechanisms(configured, false, {}), (Names{"SCRAM-SHA-256", "CRAM-MD5"}));
  EXPECT_EQ(advertised_mechanisms(configured, true, tls()),
            (Names{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "CRAM-MD5", "PLAIN", "LOGIN"}));
  EXPECT_EQ(advertised_mechanisms({"SCRAM-SHA-1", "unknown"}, true, tls()),
            (Names{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"}));
}

TEST(Registry, PlusNeedsBindingData) {
  ChannelBindings no_data;
  no_data.tls_active = true;
  EXPECT_EQ(advertised_mechanisms({"SCRAM-SHA-256"}, true, no_data), (Names{"SCRAM-SHA-256"}));
  EXPECT_EQ(advertised_mechanisms({"SCRAM-SHA-256-PLUS"}, true, {}), (Names{}));
}

TEST(Registry, FactoriesByName) {
  ServerContext context;
  testing::FakeRandom random;
  for (const std::string& name : known_mechanisms()) {
    auto server = make_server_mechanism(name, context);
    ASSERT_NE(server, nullptr) << name;
    EXPECT_EQ(server->name(), name);
    auto client = make_client_mechanism(name, ClientCredentials{}, random, tls());
    ASSERT_NE(client, nullptr) << name;
    EXPECT_EQ(client->name(), name);
  }
  EXPECT_NE(make_server_mechanism("scram-sha-1", context), nullptr);
  EXPECT_EQ(make_server_mechanism("DIGEST-MD5", context), nullptr);
  EXPECT_EQ(make_client_mechanism("GSSAPI", ClientCredentials{}, random, {}), nullptr);
}

}  // namespace
}  // namespace poplar::sasl
