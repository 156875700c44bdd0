// PART listing lines and their producer; see part_listing.h. No I/O.
#include "pop3/part_listing.h"

#include <string_view>
#include <utility>

#include "base/base64.h"
#include "pop3/response.h"

namespace poplar::pop3 {
namespace {

// A data line's room: a line of 512 octets with its CRLF (RFC 2449 §4), as append_data_line
// enforces by cutting; the name is shortened here instead, so that a cut never splits a
// character or loses the closing quote.
constexpr size_t kLineRoomOctets = kMaxResponseLineOctets - 2;
// RFC 6838 §4.2: type and subtype names are at most 127 characters each.
constexpr size_t kMaxMediaNameOctets = 127;
// RFC 2047 §2: an encoded-word is at most 75 characters; "=?UTF-8?B?" and "?=" take 12, and
// 45 octets of text are 60 base64 characters, so a word carries at most 45 octets.
constexpr size_t kEncodedWordOverhead = 12;
constexpr size_t kMaxEncodedWordOctets = 45;
constexpr std::string_view kReplacement = "?";  // for a byte that is not part of valid UTF-8

bool is_token_char(unsigned char c) {
  // RFC 2045 §5.1: any printable ASCII but SP and tspecials.
  if (c <= 0x20 || c >= 0x7f) {
    return false;
  }
  return std::string_view("()<>@,;:\\\"/[]?=").find(static_cast<char>(c)) == std::string_view::npos;
}

bool is_media_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxMediaNameOctets) {
    return false;
  }
  for (unsigned char c : name) {
    if (!is_token_char(c)) {
      return false;
    }
  }
  return true;
}

// mime/ promises "token/token"; a stored message must still not be able to put anything else
// on the wire.
std::string_view safe_media_type(std::string_view type) {
  size_t slash = type.find('/');
  if (slash == std::string_view::npos || !is_media_name(type.substr(0, slash)) ||
      !is_media_name(type.substr(slash + 1))) {
    return "application/octet-stream";  // RFC 2046 §4.5.1: what an unknown type is taken as
  }
  return type;
}

// Octets of the UTF-8 character at name[i], or 0 when the bytes there are not one (RFC 3629 §4:
// no overlong forms, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence_octets(std::string_view name, size_t i) {
  const auto lead = static_cast<unsigned char>(name[i]);
  if (lead < 0x80) {
    return 1;
  }
  size_t n = 0;
  unsigned char low = 0x80;  // the second octet's range, narrowed for some leads
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3;
    low = lead == 0xe0 ? 0xa0 : 0x80;
    high = lead == 0xed ? 0x9f : 0xbf;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4;
    low = lead == 0xf0 ? 0x90 : 0x80;
    high = lead == 0xf4 ? 0x8f : 0xbf;
  } else {
    return 0;
  }
  if (i + n > name.size()) {
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(name[i + k]);
    if (c < (k == 1 ? low : 0x80) || c > (k == 1 ? high : 0xbf)) {
      return 0;
    }
  }
  return n;
}

// The same, for text that clean_name() made valid: at least 1, so that every loop advances.
size_t utf8_char_octets(std::string_view name, size_t i) {
  size_t n = utf8_sequence_octets(name, i);
  return n == 0 ? 1 : n;
}

// The name as whole, valid UTF-8 characters without control characters.
std::string clean_name(std::string_view name) {
  std::string clean;
  for (size_t i = 0; i < name.size();) {
    size_t n = utf8_sequence_octets(name, i);
    if (n == 0) {
      clean += kReplacement;
      ++i;
      continue;
    }
    const auto c = static_cast<unsigned char>(name[i]);
    if (n > 1 || (c >= 0x20 && c != 0x7f)) {
      clean.append(name.substr(i, n));
    }
    i += n;
  }
  return clean;
}

bool is_ascii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) {
      return false;
    }
  }
  return true;
}

// The name with `"` and `\` escaped (POP4.md's quoted strings), whole characters only, at most
// `room` octets.
std::string escaped(std::string_view name, size_t room) {
  std::string out;
  for (size_t i = 0; i < name.size();) {
    size_t n = utf8_char_octets(name, i);
    bool escape = name[i] == '"' || name[i] == '\\';
    if (out.size() + n + (escape ? 1 : 0) > room) {
      break;
    }
    if (escape) {
      out += '\\';
    }
    out.append(name.substr(i, n));
    i += n;
  }
  return out;
}

// RFC 2047 B encoded-words of UTF-8 text, separated by SP (decoders join adjacent words), each
// holding whole characters, at most `room` octets in all.
std::string encoded_words(std::string_view name, size_t room) {
  std::string out;
  for (size_t i = 0; i < name.size();) {
    const size_t separator = out.empty() ? 0 : 1;
    size_t end = i;
    while (end < name.size()) {
      size_t next = end + utf8_char_octets(name, end);
      size_t octets = next - i;
      size_t word = kEncodedWordOverhead + 4 * ((octets + 2) / 3);
      if (octets > kMaxEncodedWordOctets || out.size() + separator + word > room) {
        break;
      }
      end = next;
    }
    if (end == i) {
      break;
    }
    if (separator != 0) {
      out += ' ';
    }
    out += "=?UTF-8?B?" + base64_encode(name.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

}  // namespace

std::string part_listing_line(const mime::PartInfo& part, bool utf8) {
  std::string line = part.section;
  line += ' ';
  line += safe_media_type(part.type);
  line += ' ';
  line += std::to_string(part.body.wire_octets);
  const std::string name = clean_name(part.name);
  const size_t used = line.size() + 3;  // SP and the two quotes
  if (name.empty() || used >= kLineRoomOctets) {
    return line;
  }
  const size_t room = kLineRoomOctets - used;
  std::string quoted = utf8 || is_ascii(name) ? escaped(name, room) : encoded_words(name, room);
  if (!quoted.empty()) {
    line += " \"" + quoted + "\"";
  }
  return line;
}

PartListProducer::PartListProducer(PartList parts, bool utf8)
    : parts_(std::move(parts)), utf8_(utf8) {}

Result<bool> PartListProducer::produce(std::string& out, size_t target_octets) {
  while (next_ < parts_->size()) {
    if (out.size() >= target_octets) {
      return false;
    }
    append_data_line(out, part_listing_line((*parts_)[next_++], utf8_));
  }
  append_terminator(out);
  return true;
}

}  // namespace poplar::pop3
