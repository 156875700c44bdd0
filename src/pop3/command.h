// POP3 command lines: the Command enum and the lexer/parser that turns one line (already
// split by base/LineSplitter, line end removed) into a Command with typed arguments.
// The argument grammar depends on the command (RFC 1939 §3, RFC 2449 §3): PASS takes the
// rest of the line verbatim, spaces included (SPEC R1939-7-g); every other command splits its
// arguments on single SP. Numbers are parsed strictly (base/strict_number.h), so
// "LIST 4294967297" is an error rather than message 1, and message number 0 is invalid.
//
// Every byte here is untrusted peer input: nothing asserts on it. Never does I/O, never logs
// (a PASS line holds a password).
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "pop3/message_number.h"

namespace poplar::pop3 {

enum class Command {
  kUnknown,  // keyword not in the command table
  kUser,
  kPass,
  kApop,
  kQuit,
  kStat,
  kList,
  kRetr,
  kDele,
  kNoop,
  kRset,
  kTop,
  kUidl,
  kCapa,
  kAuth,
  kStls,
  kUtf8,  // RFC 6856 §2
  kLang,  // RFC 6856 §3
  kLast,  // pre-RFC 1725; answered -ERR (SPEC PR-S-3)
  kXtnd,  // draft-hansen XTND XMIT/XLST, Historic; answered -ERR (SPEC PR-S-4)
  kPart,  // POP4 PART (POP4.md "Part commands"); valid only with the PARTS ability on
  // POP4 folder commands (POP4.md "Folder commands"); only with the FOLDERS ability on.
  kLfld,
  kSfld,
  kCfld,
  kDfld,
  kRenf,
  kMovf,
  kCopy,
  kMove,
  kStor,
  // POP4 flag commands (POP4.md "Flag commands"); only with the FLAGS ability on.
  kFlgs,
  kFlag,
  kLastCommand = kFlag,  // for tests that walk every value
};

// How the text after the keyword is read. One value per distinct grammar in RFC 1939/2449.
enum class ArgGrammar {
  kNone,             // no arguments (STAT, NOOP, RSET, QUIT, CAPA, STLS, UTF8, LAST)
  kOptionalMessage,  // [msg] (LIST, UIDL)
  kMessage,          // msg (RETR, DELE)
  kMessageAndLines,  // msg n (TOP; n is required, RFC 1939 §7)
  kName,             // one word (USER)
  kOptionalName,     // [word] (LANG, RFC 6856 §3: an optional language range)
  kRestOfLine,       // everything after "PASS ", verbatim, spaces included
  kNameAndDigest,    // name digest (APOP)
  kMechanism,        // [mechanism [initial-response]] (AUTH, RFC 5034)
  kIgnored,          // anything; the command is refused whatever follows (XTND)
  kPart,             // msg [section [MIME]] (POP4 PART; "MIME" in any case)
  // Everything after the keyword, verbatim and possibly empty, into `first`: the POP4 folder
  // and flag commands, whose quoted folder names may hold spaces. Their handlers read it with
  // pop4_arguments.h.
  kPop4,
};

// Why a line could not be parsed, in the order the checks are made.
enum class SyntaxError {
  kNone,
  kControlByte,  // NUL or another control byte in the line (popa3d drops such lines)
  kBadKeyword,   // empty line, or a keyword that is not 3-4 printable characters
  kMissingArgument,
  kTooManyArguments,
  kEmptyArgument,     // two SPs in a row, or a trailing SP where an argument should be
  kBadMessageNumber,  // not a decimal number, 0, or more than 32 bits
  kBadLineCount,      // TOP's n: not a decimal number or more than 32 bits
  kBadArgument,       // an argument of the wrong shape (APOP digest not 32 hex digits)
  kBadSection,        // PART's section: not nz-number *("." nz-number) (RFC 3501 §9)
};

struct CommandArgs {
  std::optional<MessageNumber> message;  // LIST, UIDL (optional), RETR, DELE, TOP
  std::optional<uint32_t> lines;         // TOP's n
  // USER name, PASS password, APOP name, AUTH mechanism, LANG range. A view into the parsed line:
  // valid only while the line is.
  std::string_view first;
  // APOP digest, AUTH initial response.
  std::string_view second;
  // PART's section ("1", "2.1"), syntax checked but not looked up; empty when absent. A view
  // into the parsed line, like `first`.
  std::string_view section;
  // PART msg section MIME: the part's header lines instead of its body.
  bool mime = false;
};

struct ParsedCommand {
  Command command = Command::kUnknown;
  // Set even when command is kUnknown: the session checks the state before the arguments, so
  // that a known command in the wrong state is reported as such (RFC 1939 §3).
  SyntaxError error = SyntaxError::kNone;
  CommandArgs args;
};

// Parses one command line (without its CRLF). Keywords are matched case-insensitively
// (RFC 1939 §3). The returned views point into `line`.
ParsedCommand parse_command_line(std::string_view line);

// The argument grammar alone, for `rest` = everything after the keyword's SP (or empty when
// the line is just the keyword; had_separator tells the two apart).
SyntaxError parse_arguments(ArgGrammar grammar, std::string_view rest, bool had_separator,
                            CommandArgs& args);

}  // namespace poplar::pop3
