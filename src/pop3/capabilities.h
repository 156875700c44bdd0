// The CAPA reply (RFC 2449 §5, §6): exactly what is usable in the current state, from the
// command table's tags plus the session-wide ones. Everything listed in AUTHORIZATION is also
// listed in TRANSACTION (RFC 2449 §5); IMPLEMENTATION only after login (RFC 2449 §6.9, so the
// version is hidden from anonymous peers).
//
// No I/O. Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "pop3/server_session.h"
#include "pop3/session_config.h"

namespace poplar::pop3 {

// One string per capability line, without CRLF, in a stable order.
std::vector<std::string> capabilities(const SessionConfig& config, SessionState state);

}  // namespace poplar::pop3
