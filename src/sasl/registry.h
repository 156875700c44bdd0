// Mechanism names → factories, and the order in which they are preferred (strongest first).
// Server: which mechanisms to advertise on a connection given the configured list, whether TLS
// is active, and whether plaintext mechanisms are allowed. Client: which to pick from CAPA.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sasl/mechanism.h"

namespace poplar::sasl {

// Every mechanism Poplar implements, strongest first:
// SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN.
const std::vector<std::string>& known_mechanisms();

// True for mechanisms that send the password itself (PLAIN, LOGIN): only over TLS or where
// plaintext is allowed (RFC 2595 §2.3 / RFC 4616 §4).
bool sends_plaintext_password(std::string_view mechanism);

// The mechanisms to advertise now: the configured ones (case-insensitive), in preference
// order, minus plaintext ones when !plaintext_allowed, plus the -PLUS variant of each
// configured SCRAM mechanism when channel binding data is available.
std::vector<std::string> advertised_mechanisms(const std::vector<std::string>& configured,
                                               bool plaintext_allowed,
                                               const ChannelBindings& bindings);

// nullptr for an unknown name (case-insensitive).
ServerMechanismPtr make_server_mechanism(std::string_view name, const ServerContext& context);
ClientMechanismPtr make_client_mechanism(std::string_view name, ClientCredentials credentials,
                                         Random& random, const ChannelBindings& bindings);

}  // namespace poplar::sasl
