// THE command × state table; see command_table.h. To change which command is valid when, or
// which CAPA tag announces it, edit this table and nothing else. No I/O.
#include "pop3/command_table.h"

#include <array>
#include <cstdlib>

#include "pop3/server_session_impl.h"

namespace poplar::pop3 {
namespace {

using C = Command;
using G = ArgGrammar;
using S = SessionCore;

constexpr CapaCondition kNever = CapaCondition::kNever;
constexpr CapaCondition kAlways = CapaCondition::kAlways;

// Row order is the order of CAPA tags (Dovecot's: TOP UIDL ... STLS USER SASL).
// Sources: CAPA RFC 2449 §5; TOP, UIDL, USER, PASS, APOP RFC 1939 §7 (APOP has no tag,
// RFC 2449 §6); STLS RFC 2595 §4; AUTH RFC 5034 (tag SASL); UTF8 and LANG RFC 6856 §2, §3
// ("UTF8 USER": user names and passwords may be UTF-8, see docs/protocol-notes.md); QUIT
// RFC 1939 §4/§6; STAT, LIST, RETR, DELE, NOOP, RSET RFC 1939 §5; LAST pre-RFC 1725 and XTND
// Historic, both refused. PART, the folder and the flag commands: POP4.md, each only with its
// ability (PARTS, FOLDERS, FLAGS; their CAPA line, "X-POP4 ...", is built in capabilities.cc
// from the abilities, not from rows).
// clang-format off
constexpr std::array kTable = {
  //          command   keyword grammar               AUTHORIZATION    TRANSACTION      CAPA tag
  CommandSpec{C::kCapa, "CAPA", G::kNone,             &S::handle_capa, &S::handle_capa, "", kNever},
  CommandSpec{C::kTop,  "TOP",  G::kMessageAndLines,  nullptr,         &S::handle_top,  "TOP",
              kAlways},
  CommandSpec{C::kUidl, "UIDL", G::kOptionalMessage,  nullptr,         &S::handle_uidl, "UIDL",
              kAlways},
  CommandSpec{C::kStls, "STLS", G::kNone,             &S::handle_stls, nullptr,         "STLS",
              CapaCondition::kTlsAvailable},
  CommandSpec{C::kUser, "USER", G::kName,             &S::handle_user, nullptr,         "USER",
              CapaCondition::kPlaintextAllowed},
  CommandSpec{C::kPass, "PASS", G::kRestOfLine,       &S::handle_pass, nullptr,         "", kNever},
  CommandSpec{C::kApop, "APOP", G::kNameAndDigest,    &S::handle_apop, nullptr,         "", kNever},
  CommandSpec{C::kAuth, "AUTH", G::kMechanism,        &S::handle_auth, nullptr,         "SASL",
              CapaCondition::kSaslMechanisms},
  CommandSpec{C::kUtf8, "UTF8", G::kNone,             &S::handle_utf8, nullptr,         "UTF8 USER",
              kAlways},
  CommandSpec{C::kLang, "LANG", G::kOptionalName,     &S::handle_lang, &S::handle_lang, "LANG",
              kAlways},
  CommandSpec{C::kQuit, "QUIT", G::kNone,             &S::handle_quit_authorization,
              &S::handle_quit_transaction, "", kNever},
  CommandSpec{C::kStat, "STAT", G::kNone,             nullptr,         &S::handle_stat, "", kNever},
  CommandSpec{C::kList, "LIST", G::kOptionalMessage,  nullptr,         &S::handle_list, "", kNever},
  CommandSpec{C::kRetr, "RETR", G::kMessage,          nullptr,         &S::handle_retr, "", kNever},
  CommandSpec{C::kDele, "DELE", G::kMessage,          nullptr,         &S::handle_dele, "", kNever},
  CommandSpec{C::kNoop, "NOOP", G::kNone,             nullptr,         &S::handle_noop, "", kNever},
  CommandSpec{C::kRset, "RSET", G::kNone,             nullptr,         &S::handle_rset, "", kNever},
  CommandSpec{C::kLast, "LAST", G::kNone,             nullptr,         &S::handle_last, "", kNever},
  CommandSpec{C::kXtnd, "XTND", G::kIgnored,          nullptr,         &S::handle_xtnd, "", kNever},
  CommandSpec{C::kPart, "PART", G::kPart,             nullptr,         &S::handle_part, "", kNever,
              &Pop4Abilities::parts},
  CommandSpec{C::kLfld, "LFLD", G::kNone,             nullptr,         &S::handle_lfld, "", kNever,
              &Pop4Abilities::folders},
  CommandSpec{C::kSfld, "SFLD", G::kPop4,             nullptr,         &S::handle_sfld, "", kNever,
              &Pop4Abilities::folders},
  CommandSpec{C::kCfld, "CFLD", G::kPop4,             nullptr,         &S::handle_cfld, "", kNever,
              &Pop4Abilities::folders},
  CommandSpec{C::kDfld, "DFLD", G::kPop4,             nullptr,         &S::handle_dfld, "", kNever,
              &Pop4Abilities::folders},
  CommandSpec{C::kRenf, "RENF", G::kPop4,             nullptr,         &S::handle_renf, "", kNever,
              &Pop4Abilities::folders},
  CommandSpec{C::kMovf, "MOVF", G::kPop4,             nullptr,         &S::handle_movf, "", kNever,
              &Pop4Abilities::folders},
  CommandSpec{C::kCopy, "COPY", G::kPop4,             nullptr,         &S::handle_copy, "", kNever,
              &Pop4Abilities::folders},
  CommandSpec{C::kMove, "MOVE", G::kPop4,             nullptr,         &S::handle_move, "", kNever,
              &Pop4Abilities::folders},
  CommandSpec{C::kStor, "STOR", G::kPop4,             nullptr,         &S::handle_stor, "", kNever,
              &Pop4Abilities::folders},
  CommandSpec{C::kFlgs, "FLGS", G::kPop4,             nullptr,         &S::handle_flgs, "", kNever,
              &Pop4Abilities::flags},
  CommandSpec{C::kFlag, "FLAG", G::kPop4,             nullptr,         &S::handle_flag, "", kNever,
              &Pop4Abilities::flags},
};
// clang-format on

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'a' && x <= 'z') {
      x = static_cast<char>(x - 'a' + 'A');
    }
    if (x != b[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::span<const CommandSpec> command_table() { return kTable; }

const CommandSpec& command_spec(Command command) {
  for (const CommandSpec& spec : kTable) {
    if (spec.command == command) {
      return spec;
    }
  }
  std::abort();  // REQUIRES violated: kUnknown or a command missing from the table
}

Command command_from_keyword(std::string_view keyword) {
  for (const CommandSpec& spec : kTable) {
    if (equal_ignoring_case(keyword, spec.keyword)) {  // RFC 1939 §3: case-insensitive
      return spec.command;
    }
  }
  return Command::kUnknown;
}

bool command_enabled(Command command, const SessionConfig& config) {
  if (command == Command::kUnknown) {
    return true;
  }
  const CommandSpec& spec = command_spec(command);
  return spec.needs == nullptr || config.pop4.*spec.needs;
}

Handler handler_for(Command command, SessionState state) {
  if (command == Command::kUnknown) {
    return nullptr;
  }
  const CommandSpec& spec = command_spec(command);
  switch (state) {
    case SessionState::kAuthorization:
      return spec.in_authorization;
    case SessionState::kTransaction:
      return spec.in_transaction;
    case SessionState::kUpdate:
    case SessionState::kClosed:
      return nullptr;
  }
  return nullptr;
}

}  // namespace poplar::pop3
