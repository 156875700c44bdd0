// The CAPA reply (RFC 2449 §5, §6): exactly what is usable in the current state, from the
// command table's tags plus the session-wide ones. Everything listed in AUTHORIZATION is also
// listed in TRANSACTION (RFC 2449 §5); IMPLEMENTATION only after login (RFC 2449 §6.9, so the
// version is hidden from anonymous peers). What changes during a session (TLS started, state)
// comes in as CapaState, computed by the session.
//
// No I/O. Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "pop3/server_session.h"
#include "pop3/session_config.h"

namespace poplar::pop3 {

// What the session can offer at the moment CAPA is asked.
struct CapaState {
  SessionState state = SessionState::kAuthorization;
  // USER (and the plaintext SASL mechanisms): TLS active, loopback, or configured.
  bool plaintext_allowed = true;
  // STLS: a starttls listener, TLS not yet active, AUTHORIZATION, no UTF8 yet (RFC 2595 §4,
  // RFC 6856 §2.1).
  bool stls_available = false;
  // SASL: the mechanisms usable now, in preference order; no SASL line when empty.
  std::vector<std::string> sasl_mechanisms;
};

// The POP4 line, "X-POP4 PARTS" (POP4.md "Discovery"): the abilities that are on, in the
// profile's order; empty when none is.
std::string pop4_capability(const Pop4Abilities& abilities);

// One string per capability line, without CRLF, in a stable order.
std::vector<std::string> capabilities(const SessionConfig& config, const CapaState& now);

}  // namespace poplar::pop3
