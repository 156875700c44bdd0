// SASL CRAM-MD5 (RFC 2195), server and client side. The server's challenge is a msg-id-like
// string `<random.unixtime@hostname>`, fresh per exchange (RFC 2195 §2); the client answers
// "user SP hex(HMAC-MD5(secret, challenge))". The server cannot check the digest itself: it
// returns kCheckCramMd5 and auth/ computes the expected digest from the passwd-file entry
// ({PLAIN} or Dovecot's {CRAM-MD5} MD5 states). No server authentication, MD5: prefer SCRAM.
//
// Never logs the digest or the secret. Thread-safety: one object per exchange, one thread.
#pragma once

#include <string>
#include <string_view>

#include "sasl/mechanism.h"

namespace poplar::sasl {

// `fixed_challenge` is for test vectors only; empty means a fresh one from context.random.
ServerMechanismPtr make_cram_md5_server(const ServerContext& context,
                                        std::string fixed_challenge = {});
ClientMechanismPtr make_cram_md5_client(ClientCredentials credentials);

// Lowercase hex of HMAC-MD5(key = secret, text = challenge) (RFC 2195 §2); "" if OpenSSL fails.
std::string cram_md5_hex(std::string_view secret, std::string_view challenge);

}  // namespace poplar::sasl
