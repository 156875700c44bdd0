// Helpers of ClientSession for server text: sanitising it for people, and classifying the
// response codes of a failed login (RFC 2449 §8, RFC 3206). See client_session.h.
//
// Thread-safety: pure functions.
#include <string>
#include <string_view>

#include "pop3/client_session.h"
#include "pop3/client_session_impl.h"

namespace poplar::pop3 {

std::string_view failure_kind_name(FailureKind kind) {
  switch (kind) {
    case FailureKind::kTemporary:
      return "temporary";
    case FailureKind::kAuth:
      return "auth";
    case FailureKind::kPermanent:
      return "permanent";
    case FailureKind::kProtocol:
      return "protocol";
    case FailureKind::kConfig:
      return "config";
  }
  return "unknown";
}

std::string sanitize_server_text(std::string_view text, size_t max_octets) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max_octets) + 8);
  for (char c : text) {
    if (out.size() >= max_octets) {
      out += "...";
      break;
    }
    auto octet = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (octet < 0x20 || octet >= 0x7f) {
      // Terminal escapes, line ends that would forge log lines, and bytes that are not ASCII
      // (C1 controls hide in UTF-8 too): all shown as \xHH.
      out += "\\x";
      out += kHex[octet >> 4];
      out += kHex[octet & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

FailureKind classify_login_error(std::string_view response_code) {
  // RFC 2449 §8: levels are separated by "/"; unknown lower levels are ignored, so only the
  // leading levels are compared.
  auto level = [&](size_t index) {
    std::string_view rest = response_code;
    for (size_t i = 0; i < index; ++i) {
      size_t slash = rest.find('/');
      if (slash == std::string_view::npos) {
        return std::string_view();
      }
      rest.remove_prefix(slash + 1);
    }
    return rest.substr(0, rest.find('/'));
  };
  std::string_view first = level(0);
  if (equals_ignore_case(first, "IN-USE") || equals_ignore_case(first, "LOGIN-DELAY")) {
    return FailureKind::kTemporary;
  }
  if (equals_ignore_case(first, "SYS")) {
    std::string_view second = level(1);
    if (equals_ignore_case(second, "TEMP")) {
      return FailureKind::kTemporary;
    }
    if (equals_ignore_case(second, "PERM")) {
      return FailureKind::kPermanent;
    }
  }
  return FailureKind::kAuth;
}

}  // namespace poplar::pop3
