// SASL LOGIN (draft-murchison-sasl-login-00; not an RFC but widely deployed), server and client
// side. The server asks "Username:" then "Password:" (what deployed clients expect, rather than
// the draft's "User Name"), and accepts an initial response as the user name, as Dovecot does.
// It sends the password itself: offered only over TLS or where plaintext is allowed.
//
// Never logs or returns the password anywhere but PasswordCheck::password (a Secret).
// Thread-safety: one object per exchange, one thread.
#pragma once

#include "sasl/mechanism.h"

namespace poplar::sasl {

inline constexpr size_t kLoginMaxFieldOctets = 1024;

ServerMechanismPtr make_login_server();
ClientMechanismPtr make_login_client(ClientCredentials credentials);

}  // namespace poplar::sasl
