// POP4 argument syntax; see pop4_arguments.h.
#include "pop3/pop4_arguments.h"

#include <charconv>

namespace poplar::pop3 {
namespace {

Status invalid(std::string_view text) {
  return Status::error(ErrorCode::kInvalidInput, std::string(text));
}

// 1..2^32-1, decimal digits only (no sign, no spaces).
bool parse_number(std::string_view digits, MessageNumber& number) {
  if (digits.empty() || digits.size() > 10) {
    return false;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 ||
      value > UINT32_MAX) {
    return false;
  }
  number.value = static_cast<uint32_t>(value);
  return true;
}

}  // namespace

// '*' and '%' are IMAP's list wildcards, kept free for a later pattern syntax. With UTF8 the
// octets of UTF-8 sequences count as VCHAR too (RFC 6856); the store checks that they form
// valid UTF-8.
bool is_folder_atom_octet(unsigned char c, bool utf8) {
  if (c >= 0x80) {
    return utf8;
  }
  return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '*' && c != '%';
}

Status Pop4Arguments::start_argument(std::string_view what) {
  if (!first_) {
    if (rest_.empty() || rest_.front() != ' ') {
      return invalid("Missing " + std::string(what) + ".");
    }
    rest_.remove_prefix(1);
  }
  first_ = false;
  if (rest_.empty()) {
    return invalid("Missing " + std::string(what) + ".");
  }
  if (rest_.front() == ' ') {
    return invalid("Arguments are separated by a single space.");
  }
  return Status::ok();
}

Result<std::string> Pop4Arguments::folder() {
  if (Status s = start_argument("folder name"); !s.is_ok()) {
    return s;
  }
  std::string name;
  if (rest_.front() != '"') {
    size_t n = 0;
    while (n < rest_.size() && rest_[n] != ' ') {
      if (!is_folder_atom_octet(static_cast<unsigned char>(rest_[n]), utf8_)) {
        return invalid(static_cast<unsigned char>(rest_[n]) >= 0x80
                           ? "Folder names are ASCII until UTF8 is issued."
                           : "Quote a folder name that holds '\"', '\\', '*' or '%'.");
      }
      ++n;
    }
    name.assign(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return name;
  }
  size_t i = 1;
  for (;;) {
    if (i >= rest_.size()) {
      return invalid("Unterminated quoted folder name.");
    }
    const unsigned char c = static_cast<unsigned char>(rest_[i]);
    if (c == '"') {
      break;
    }
    if (c == '\\') {
      if (i + 1 >= rest_.size() || (rest_[i + 1] != '"' && rest_[i + 1] != '\\')) {
        return invalid("Only \\\" and \\\\ may be escaped in a quoted folder name.");
      }
      name += rest_[i + 1];
      i += 2;
      continue;
    }
    if (c >= 0x80 && !utf8_) {
      return invalid("Folder names are ASCII until UTF8 is issued.");
    }
    name += static_cast<char>(c);
    ++i;
  }
  rest_.remove_prefix(i + 1);
  if (!rest_.empty() && rest_.front() != ' ') {
    return invalid("A space must follow a quoted folder name.");
  }
  return name;
}

Result<MessageSet> Pop4Arguments::message_set() {
  if (Status s = start_argument("message set"); !s.is_ok()) {
    return s;
  }
  size_t end = rest_.find(' ');
  std::string_view text = rest_.substr(0, end);
  rest_.remove_prefix(text.size());
  MessageSet set;
  while (true) {
    size_t comma = text.find(',');
    std::string_view element = text.substr(0, comma);
    size_t colon = element.find(':');
    MessageRange range;
    bool ok = parse_number(element.substr(0, colon), range.first);
    if (ok) {
      range.last = range.first;
      if (colon != std::string_view::npos) {
        ok = parse_number(element.substr(colon + 1), range.last);
      }
    }
    if (!ok) {
      return invalid("Invalid message set: numbers are 1 to 4294967295, as n, n:m or n,m.");
    }
    if (range.first > range.last) {
      return invalid("Invalid message set: a range n:m needs n <= m.");
    }
    set.ranges.push_back(range);
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return set;
}

Result<std::string_view> Pop4Arguments::word() {
  if (Status s = start_argument("argument"); !s.is_ok()) {
    return s;
  }
  size_t end = rest_.find(' ');
  std::string_view w = rest_.substr(0, end);
  rest_.remove_prefix(w.size());
  return w;
}

Result<store::MessageFlags> Pop4Arguments::flag_list() {
  if (Status s = start_argument("flag list"); !s.is_ok()) {
    return s;
  }
  if (rest_.front() != '(' || rest_.back() != ')' || rest_.size() < 2) {
    return invalid("Flags are given as a list in parentheses, last: (\\Seen $Junk).");
  }
  std::string_view inner = rest_.substr(1, rest_.size() - 2);
  rest_ = {};
  if (inner.find_first_of("()") != std::string_view::npos) {
    return invalid("Flags are given as a list in parentheses, last: (\\Seen $Junk).");
  }
  return store::parse_flag_list(inner);
}

Status Pop4Arguments::finish() const {
  if (!rest_.empty()) {
    return invalid("Too many arguments.");
  }
  return Status::ok();
}

std::string quote_folder_name(std::string_view name) {
  bool atom = !name.empty();
  for (unsigned char c : name) {
    if (!is_folder_atom_octet(c, /*utf8=*/true)) {
      atom = false;
      break;
    }
  }
  if (atom) {
    return std::string(name);
  }
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

}  // namespace poplar::pop3
