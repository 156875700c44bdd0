// SASL PLAIN (RFC 4616), server and client side. The message is [authzid] NUL authcid NUL passwd
// in UTF-8; the server turns it into a PasswordCheck for auth/ and never sees the passwd-file.
// PLAIN sends the password itself: registry.h offers it only over TLS or where plaintext is
// allowed (RFC 4616 §4).
//
// Never logs or returns the password anywhere but PasswordCheck::password (a Secret).
// Thread-safety: one object per exchange, one thread.
#pragma once

#include "sasl/mechanism.h"

namespace poplar::sasl {

// RFC 4616 §2: a server MUST accept each field up to 255 octets; we accept up to this many.
inline constexpr size_t kPlainMaxFieldOctets = 1024;

ServerMechanismPtr make_plain_server();
ClientMechanismPtr make_plain_client(ClientCredentials credentials);

}  // namespace poplar::sasl
