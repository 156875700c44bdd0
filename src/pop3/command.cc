// Command-line parsing; see command.h. Untrusted input throughout: every check returns an
// error value, nothing asserts.
#include "pop3/command.h"

#include "base/ascii.h"
#include "base/strict_number.h"
#include "pop3/command_table.h"

namespace poplar::pop3 {
namespace {

constexpr size_t kMinKeywordOctets = 3;  // RFC 2449 §3: keyword = 3*4VCHAR
constexpr size_t kMaxKeywordOctets = 4;
constexpr size_t kApopDigestOctets = 32;  // RFC 1939 §7: MD5 as 32 hex digits

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }
bool is_vchar(unsigned char c) { return c >= 0x21 && c <= 0x7e; }
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Splits `rest` on single SPs into at most `max` words. Returns the error, if any.
SyntaxError split_words(std::string_view rest, size_t min, size_t max, std::string_view* words,
                        size_t& count) {
  count = 0;
  // Leniency: trailing SPs are dropped (some clients send "LIST 1 "); doubled SPs between
  // words are not accepted (RFC 1939 §3: arguments are separated by a single SP).
  while (!rest.empty() && rest.back() == ' ') {
    rest.remove_suffix(1);
  }
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    std::string_view word = rest.substr(0, sp);
    if (word.empty()) {
      return SyntaxError::kEmptyArgument;
    }
    if (count == max) {
      return SyntaxError::kTooManyArguments;
    }
    words[count++] = word;
    if (sp == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(sp + 1);
  }
  if (count < min) {
    return SyntaxError::kMissingArgument;
  }
  return SyntaxError::kNone;
}

SyntaxError parse_message_number(std::string_view word, CommandArgs& args) {
  auto n = parse_u32(word);
  if (!n || *n == 0) {  // RFC 1939 §4: messages are numbered from 1
    return SyntaxError::kBadMessageNumber;
  }
  args.message = MessageNumber{*n};
  return SyntaxError::kNone;
}

// RFC 3501 §9 section-part: nz-number *("." nz-number), each a 32-bit number without leading
// zeros, so that equal sections are equal strings.
bool is_section(std::string_view word) {
  if (word.empty()) {
    return false;
  }
  for (;;) {
    size_t dot = word.find('.');
    std::string_view number = word.substr(0, dot);
    if (number.empty() || number[0] == '0' || !parse_u32(number)) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    word.remove_prefix(dot + 1);
  }
}

}  // namespace

SyntaxError parse_arguments(ArgGrammar grammar, std::string_view rest, bool had_separator,
                            CommandArgs& args) {
  std::string_view words[3];
  size_t count = 0;
  SyntaxError e = SyntaxError::kNone;
  switch (grammar) {
    case ArgGrammar::kNone:
      return split_words(rest, 0, 0, words, count);
    case ArgGrammar::kIgnored:
      return SyntaxError::kNone;
    case ArgGrammar::kOptionalMessage:
      if ((e = split_words(rest, 0, 1, words, count)) != SyntaxError::kNone) {
        return e;
      }
      return count == 0 ? SyntaxError::kNone : parse_message_number(words[0], args);
    case ArgGrammar::kMessage:
      if ((e = split_words(rest, 1, 1, words, count)) != SyntaxError::kNone) {
        return e;
      }
      return parse_message_number(words[0], args);
    case ArgGrammar::kMessageAndLines: {
      if ((e = split_words(rest, 2, 2, words, count)) != SyntaxError::kNone) {
        return e;
      }
      if ((e = parse_message_number(words[0], args)) != SyntaxError::kNone) {
        return e;
      }
      auto lines = parse_u32(words[1]);  // RFC 1939 §7: a non-negative number, required
      if (!lines) {
        return SyntaxError::kBadLineCount;
      }
      args.lines = *lines;
      return SyntaxError::kNone;
    }
    case ArgGrammar::kName:
      if ((e = split_words(rest, 1, 1, words, count)) != SyntaxError::kNone) {
        return e;
      }
      args.first = words[0];
      return SyntaxError::kNone;
    case ArgGrammar::kOptionalName:
      if ((e = split_words(rest, 0, 1, words, count)) != SyntaxError::kNone) {
        return e;
      }
      if (count > 0) {
        args.first = words[0];
      }
      return SyntaxError::kNone;
    case ArgGrammar::kRestOfLine:
      // SPEC R1939-7-g: PASS has exactly one argument, so every octet after "PASS " belongs
      // to it, spaces (leading, inner and trailing) included.
      if (!had_separator || rest.empty()) {
        return SyntaxError::kMissingArgument;
      }
      args.first = rest;
      return SyntaxError::kNone;
    case ArgGrammar::kPop4:
      args.first = rest;
      return SyntaxError::kNone;
    case ArgGrammar::kNameAndDigest:
      if ((e = split_words(rest, 2, 2, words, count)) != SyntaxError::kNone) {
        return e;
      }
      if (words[1].size() != kApopDigestOctets) {
        return SyntaxError::kBadArgument;
      }
      for (char c : words[1]) {
        if (!is_hex(c)) {
          return SyntaxError::kBadArgument;
        }
      }
      args.first = words[0];
      args.second = words[1];
      return SyntaxError::kNone;
    case ArgGrammar::kMechanism:
      if ((e = split_words(rest, 0, 2, words, count)) != SyntaxError::kNone) {
        return e;
      }
      if (count > 0) {
        args.first = words[0];
      }
      if (count > 1) {
        args.second = words[1];
      }
      return SyntaxError::kNone;
    case ArgGrammar::kPart:
      if ((e = split_words(rest, 1, 3, words, count)) != SyntaxError::kNone) {
        return e;
      }
      if ((e = parse_message_number(words[0], args)) != SyntaxError::kNone) {
        return e;
      }
      if (count > 1) {
        if (!is_section(words[1])) {
          return SyntaxError::kBadSection;
        }
        args.section = words[1];
      }
      if (count > 2) {
        if (!ascii_iequals(words[2], "MIME")) {  // POP4.md: like IMAP's BODY[n.MIME]
          return SyntaxError::kBadArgument;
        }
        args.mime = true;
      }
      return SyntaxError::kNone;
  }
  return SyntaxError::kBadArgument;
}

ParsedCommand parse_command_line(std::string_view line) {
  ParsedCommand parsed;
  for (unsigned char c : line) {
    if (is_control(c)) {
      parsed.error = SyntaxError::kControlByte;
      return parsed;
    }
  }
  size_t sp = line.find(' ');
  std::string_view keyword = line.substr(0, sp);
  bool had_separator = sp != std::string_view::npos;
  std::string_view rest = had_separator ? line.substr(sp + 1) : std::string_view();
  if (keyword.size() < kMinKeywordOctets || keyword.size() > kMaxKeywordOctets) {
    parsed.error = SyntaxError::kBadKeyword;
    return parsed;
  }
  for (unsigned char c : keyword) {
    if (!is_vchar(c)) {
      parsed.error = SyntaxError::kBadKeyword;
      return parsed;
    }
  }
  parsed.command = command_from_keyword(keyword);
  if (parsed.command == Command::kUnknown) {
    return parsed;
  }
  parsed.error =
      parse_arguments(command_spec(parsed.command).grammar, rest, had_separator, parsed.args);
  return parsed;
}

}  // namespace poplar::pop3
