// The mbox From_ line and the envelope sender from Return-Path; see from_line.h.
//
// Must never: trust the header text.
//
// Thread-safety: pure functions (gmtime_r is reentrant).
#include "store/mbox/from_line.h"

#include <cstdio>
#include <ctime>

namespace poplar::store::mbox {
namespace {

// 1970-01-01 and 9999-12-31T23:59:59: asctime has four digits for the year.
constexpr int64_t kFirstSecond = 0;
constexpr int64_t kLastSecond = 253402300799;

bool is_space(char c) { return c == ' ' || c == '\t'; }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The unfolded value of the first Return-Path field, or nothing.
bool find_return_path(std::string_view header, std::string* value) {
  bool in_field = false;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find('\n', pos);
    std::string_view line =
        header.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? header.size() : end + 1;
    if (trim(line).empty() && !(line.size() > 0 && is_space(line.front()))) {
      break;  // the end of the header block
    }
    if (!line.empty() && is_space(line.front())) {
      if (in_field) {
        *value += ' ';
        *value += trim(line);
      }
      continue;
    }
    if (in_field) {
      return true;
    }
    size_t colon = line.find(':');
    if (colon != std::string_view::npos &&
        equals_ignoring_case(trim(line.substr(0, colon)), "return-path")) {
      in_field = true;
      *value = std::string(trim(line.substr(colon + 1)));
    }
  }
  return in_field;
}

}  // namespace

bool is_writable_sender(std::string_view sender) {
  if (sender.empty() || sender.size() > kMaxSenderOctets) {
    return false;
  }
  for (char c : sender) {
    if (c < 0x21 || c > 0x7E) {
      return false;
    }
  }
  return true;
}

std::string from_line(std::string_view sender, int64_t unix_seconds) {
  if (unix_seconds < kFirstSecond) {
    unix_seconds = kFirstSecond;
  } else if (unix_seconds > kLastSecond) {
    unix_seconds = kLastSecond;
  }
  const auto t = static_cast<std::time_t>(unix_seconds);
  struct tm utc {};
  ::gmtime_r(&t, &utc);
  // asctime's layout ("%a %b %e %H:%M:%S %Y", day of month padded with a space), always in
  // English whatever the locale: strftime would translate the names.
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char date[32];
  std::snprintf(date, sizeof date, "%s %s %2d %02d:%02d:%02d %04d", kDays[utc.tm_wday % 7],
                kMonths[utc.tm_mon % 12], utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                utc.tm_year + 1900);
  std::string line = "From ";
  line += sender;
  line += ' ';
  line += date;
  line += '\n';
  return line;
}

std::string sender_from_header(std::string_view header_block) {
  std::string value;
  if (!find_return_path(header_block, &value)) {
    return std::string(kUnknownSender);
  }
  std::string_view address = value;
  size_t open = address.find('<');
  if (open != std::string_view::npos) {
    size_t close = address.find('>', open + 1);
    if (close == std::string_view::npos) {
      return std::string(kUnknownSender);
    }
    address = address.substr(open + 1, close - open - 1);
  }
  address = trim(address);
  if (!is_writable_sender(address)) {
    return std::string(kUnknownSender);  // the null path "<>" included
  }
  return std::string(address);
}

}  // namespace poplar::store::mbox
