// Status-line and multi-line builders; see response.h. No I/O.
#include "pop3/response.h"

namespace poplar::pop3 {
namespace {

constexpr std::string_view kCrlf = "\r\n";

// Appends `text` with every control byte replaced by '?', at most `limit` octets.
void append_clean(std::string& out, std::string_view text, size_t limit) {
  if (text.size() > limit) {
    text = text.substr(0, limit);
  }
  size_t start = out.size();
  out.append(text);
  for (size_t i = start; i < out.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c < 0x20 || c == 0x7f) {
      out[i] = '?';
    }
  }
}

void append_status(std::string& out, std::string_view status, ResponseCode code,
                   std::string_view text, std::string_view fallback) {
  out.append(status);
  size_t used = status.size() + kCrlf.size();
  std::string_view code_name = response_code_name(code);
  if (!code_name.empty()) {
    out.append(" [");
    out.append(code_name);
    out.append("]");
    used += code_name.size() + 3;
  }
  if (text.empty()) {
    text = fallback;  // RFC 1957: always a SP and some text
  }
  out.push_back(' ');
  ++used;
  size_t room = kMaxResponseLineOctets > used ? kMaxResponseLineOctets - used : 0;
  size_t start = out.size();
  append_clean(out, text, room);
  if (out.size() > start && out[start] == '[') {
    out[start] = '(';  // RFC 2449 §6.4: "[" would be read as a response code
  }
  out.append(kCrlf);
}

}  // namespace

std::string_view response_code_name(ResponseCode code) {
  switch (code) {
    case ResponseCode::kNone:
      return "";
    case ResponseCode::kInUse:
      return "IN-USE";
    case ResponseCode::kLoginDelay:
      return "LOGIN-DELAY";
    case ResponseCode::kAuth:
      return "AUTH";
    case ResponseCode::kSysTemp:
      return "SYS/TEMP";
    case ResponseCode::kSysPerm:
      return "SYS/PERM";
    case ResponseCode::kUtf8:
      return "UTF8";
  }
  return "";
}

void append_ok(std::string& out, std::string_view text) {
  append_status(out, "+OK", ResponseCode::kNone, text, "Done.");
}

void append_err(std::string& out, std::string_view text, ResponseCode code) {
  append_status(out, "-ERR", code, text, "Failed.");
}

void append_data_line(std::string& out, std::string_view line) {
  size_t room = kMaxResponseLineOctets - kCrlf.size();
  if (!line.empty() && line.front() == '.') {
    out.push_back('.');  // RFC 1939 §3: byte-stuff a line that starts with "."
    --room;
  }
  append_clean(out, line, room);
  out.append(kCrlf);
}

void append_terminator(std::string& out) { out.append(".\r\n"); }

}  // namespace poplar::pop3
