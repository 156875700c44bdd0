// THE command table (popa3d's per-state tables, h11's _state.py): for every command, its
// keyword, its argument grammar, which handler runs it in each state, and the CAPA tag that
// announces it. A command has no handler in a state where RFC 1939 does not allow it, so
// "RETR before login" is simply not found (R1939-3-i). Everything that decides which command
// is valid when lives here; the handlers themselves live in server_handlers_*.cc.
//
// No I/O. Thread-safety: the table is immutable static data.
#pragma once

#include <span>
#include <string_view>

#include "pop3/command.h"
#include "pop3/server_session.h"
#include "pop3/session_config.h"

namespace poplar::pop3 {

class SessionCore;  // server_session_impl.h
using Handler = void (SessionCore::*)(const ParsedCommand&);

// When a CAPA tag is shown (RFC 2449 §5: announce exactly what is usable now).
enum class CapaCondition {
  kNever,  // no tag
  kAlways,
  kPlaintextAllowed,  // USER: only where plaintext passwords are accepted (SPEC R2449-6.2)
  kSaslMechanisms,    // SASL: only when at least one mechanism is usable now, with the list
  kTlsAvailable,      // STLS: only while it can be started (RFC 2595 §4)
};

struct CommandSpec {
  Command command;
  std::string_view keyword;  // upper case, as in the RFCs
  ArgGrammar grammar;
  Handler in_authorization;  // nullptr: not valid in AUTHORIZATION
  Handler in_transaction;    // nullptr: not valid in TRANSACTION
  std::string_view capa_tag;
  CapaCondition capa_when;
  // An extension command exists only while this ability is on (POP4.md: with [pop4] enabled =
  // false, PART is an unknown command, as in plain POP3). nullptr: a POP3 command, always.
  bool Pop4Abilities::*needs = nullptr;
};

// Every command, in the order CAPA lists their tags.
std::span<const CommandSpec> command_table();

// REQUIRES: command != Command::kUnknown.
const CommandSpec& command_spec(Command command);

// Case-insensitive keyword lookup (RFC 1939 §3); kUnknown when absent.
Command command_from_keyword(std::string_view keyword);

// False for an extension command whose ability is off in `config`: the session then treats
// the keyword as unknown. True for kUnknown (the caller rejects it anyway).
bool command_enabled(Command command, const SessionConfig& config);

// The handler for `command` in `state`, or nullptr when the command is not valid there.
// No command is valid in UPDATE or after the session closed.
Handler handler_for(Command command, SessionState state);

}  // namespace poplar::pop3
