// Folder name rules shared by every store backend (folder_name_rules.h).
//
// Must never: read past its input, allocate in proportion to more than its input, or accept a
// name it cannot give back unchanged.
//
// Thread-safety: pure functions.
#include "store/folder_name_rules.h"

#include <cstdint>
#include <vector>

#include "base/ascii.h"

namespace poplar::store {
namespace {

// A wire name longer than this cannot fit: a name encodes to at least 8/9 of its length (a run
// of three-octet UTF-8 characters, 16 bits in 8/3 BASE64 characters each, is the densest), and
// the encoded name has at most kMaxEncodedFolderNameOctets. Checked first, so that a megabyte
// of input costs nothing but its length check.
constexpr size_t kMaxWireOctets = 4 * kMaxEncodedFolderNameOctets;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

// Maildir++ separates levels with '.' on disk, so a level cannot hold one (see the header).
constexpr char kLevelDot = '.';

Status invalid(std::string_view what) {
  return Status::invalid_input("folder name " + std::string(what));
}

// Decodes one UTF-8 sequence at text[*pos], strictly (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). Returns false for an ill-formed or cut sequence.
bool next_code_point(std::string_view text, size_t* pos, uint32_t* out) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(*pos);
  size_t length = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if (lead < 0x80) {
    *out = lead;
    *pos += 1;
    return true;
  }
  if ((lead & 0xE0) == 0xC0) {
    length = 2, cp = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, cp = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (text.size() - *pos < length) {
    return false;
  }
  for (size_t i = 1; i < length; ++i) {
    const uint8_t b = byte(*pos + i);
    if ((b & 0xC0) != 0x80) {
      return false;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return false;
  }
  *out = cp;
  *pos += length;
  return true;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_control(uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// Printable ASCII stands for itself in modified UTF-7 (RFC 3501 §5.1.3).
bool is_direct(uint32_t cp) { return cp >= 0x20 && cp <= 0x7E; }

// Checks the characters of one level (already split at '/').
Status check_level(std::string_view level, bool first_of_name) {
  if (level == "." || level == "..") {
    return invalid("has a level \".\" or \"..\"");
  }
  if (first_of_name && level.front() == '~') {
    return invalid("starts with '~' (Dovecot refuses it: it means a home directory)");
  }
  size_t pos = 0;
  while (pos < level.size()) {
    if (level[pos] == '\0') {
      return invalid("contains a NUL");
    }
    uint32_t cp = 0;
    if (!next_code_point(level, &pos, &cp)) {
      return invalid("is not valid UTF-8");
    }
    if (is_control(cp)) {
      return invalid("contains a control character");
    }
    if (cp == static_cast<uint32_t>(kLevelDot)) {
      return invalid("contains '.', which Maildir++ uses as its hierarchy separator on disk");
    }
  }
  return Status::ok();
}

// Appends the modified BASE64 of UTF-16BE code units, then '-'.
void append_encoded_run(const std::vector<uint16_t>& units, std::string* out) {
  out->push_back('&');
  uint32_t bits = 0;
  int bit_count = 0;
  for (uint16_t unit : units) {
    bits = (bits << 16) | unit;
    bit_count += 16;
    while (bit_count >= 6) {
      bit_count -= 6;
      out->push_back(kBase64Alphabet[(bits >> bit_count) & 0x3F]);
    }
    bits &= (1u << bit_count) - 1;
  }
  if (bit_count > 0) {
    out->push_back(kBase64Alphabet[(bits << (6 - bit_count)) & 0x3F]);
  }
  out->push_back('-');
}

int base64_value(char c) {
  const size_t at = kBase64Alphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

// Decodes the modified BASE64 between '&' and '-' into code points appended to *out as UTF-8.
Status decode_run(std::string_view run, std::string* out) {
  std::vector<uint16_t> units;
  uint32_t bits = 0;
  int bit_count = 0;
  for (char c : run) {
    const int value = base64_value(c);
    if (value < 0) {
      return Status::invalid_input("modified UTF-7: a character outside the BASE64 alphabet");
    }
    bits = (bits << 6) | static_cast<uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 16) {
      bit_count -= 16;
      units.push_back(static_cast<uint16_t>(bits >> bit_count));
      bits &= (1u << bit_count) - 1;
    }
  }
  // What is left must be the zero padding of the last unit: fewer than 6 bits, all zero.
  if (bit_count >= 6 || bits != 0) {
    return Status::invalid_input("modified UTF-7: bad padding bits");
  }
  if (units.empty()) {
    return Status::invalid_input("modified UTF-7: an empty encoded run");
  }
  for (size_t i = 0; i < units.size(); ++i) {
    uint32_t cp = units[i];
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 1 == units.size() || units[i + 1] < 0xDC00 || units[i + 1] > 0xDFFF) {
        return Status::invalid_input("modified UTF-7: an unpaired surrogate");
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (units[i + 1] - 0xDC00);
      ++i;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return Status::invalid_input("modified UTF-7: an unpaired surrogate");
    }
    if (is_direct(cp)) {
      return Status::invalid_input("modified UTF-7: printable ASCII encoded in BASE64");
    }
    append_utf8(cp, out);
  }
  return Status::ok();
}

}  // namespace

bool is_inbox_name(std::string_view wire_name) { return ascii_iequals(wire_name, kInboxName); }

std::string encode_modified_utf7(std::string_view utf8) {
  std::string out;
  std::vector<uint16_t> run;
  size_t pos = 0;
  while (pos < utf8.size()) {
    uint32_t cp = 0;
    if (!next_code_point(utf8, &pos, &cp)) {
      cp = 0xFFFD;  // REQUIRES says valid UTF-8; never emit garbage even so
      ++pos;
    }
    if (is_direct(cp)) {
      if (!run.empty()) {
        append_encoded_run(run, &out);
        run.clear();
      }
      out.append(cp == '&' ? "&-" : std::string(1, static_cast<char>(cp)));
    } else if (cp >= 0x10000) {
      run.push_back(static_cast<uint16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      run.push_back(static_cast<uint16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      run.push_back(static_cast<uint16_t>(cp));
    }
  }
  if (!run.empty()) {
    append_encoded_run(run, &out);
  }
  return out;
}

Result<std::string> decode_modified_utf7(std::string_view mutf7) {
  std::string out;
  size_t pos = 0;
  size_t run_end = std::string_view::npos;  // just after the last encoded run
  while (pos < mutf7.size()) {
    const char c = mutf7[pos];
    if (c != '&') {
      if (!is_direct(static_cast<uint8_t>(c))) {
        return Status::invalid_input("modified UTF-7: an octet that is not printable ASCII");
      }
      out.push_back(c);
      ++pos;
      continue;
    }
    const size_t end = mutf7.find('-', pos + 1);
    if (end == std::string_view::npos) {
      return Status::invalid_input("modified UTF-7: '&' without its closing '-'");
    }
    if (end == pos + 1) {
      out.push_back('&');
    } else {
      // The encoder makes one run of consecutive characters, never two back to back.
      if (run_end == pos) {
        return Status::invalid_input("modified UTF-7: two encoded runs back to back");
      }
      if (Status decoded = decode_run(mutf7.substr(pos + 1, end - pos - 1), &out);
          !decoded.is_ok()) {
        return decoded;
      }
      run_end = end + 1;
    }
    pos = end + 1;
  }
  return out;
}

Result<CheckedFolderName> check_folder_name(std::string_view wire_name) {
  if (wire_name.empty()) {
    return invalid("is empty");
  }
  if (is_inbox_name(wire_name)) {
    return CheckedFolderName{std::string(kInboxName), 1, true};
  }
  if (wire_name.size() > kMaxWireOctets) {
    return invalid("is too long");
  }
  if (wire_name.front() == kWireSeparator) {
    return invalid("starts with '/'");
  }
  if (wire_name.back() == kWireSeparator) {
    return invalid("ends with '/'");
  }
  std::vector<std::string_view> levels;
  for (size_t start = 0;;) {
    const size_t slash = wire_name.find(kWireSeparator, start);
    levels.push_back(wire_name.substr(start, slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
    // Stop early: a name of a million slashes must not cost a million views.
    if (levels.size() > kMaxFolderLevels) {
      break;
    }
  }
  if (levels.size() > kMaxFolderLevels) {
    return invalid("has more than " + std::to_string(kMaxFolderLevels) + " levels");
  }
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].empty()) {
      return invalid("has an empty level (\"//\")");
    }
    if (Status checked = check_level(levels[i], i == 0); !checked.is_ok()) {
      return checked;
    }
  }
  if (is_inbox_name(levels.front())) {
    return invalid("is beneath INBOX, which can hold no folders (it is the Maildir root)");
  }
  size_t encoded_octets = 0;
  for (std::string_view level : levels) {
    encoded_octets += 1 + encode_modified_utf7(level).size();
    if (encoded_octets > kMaxEncodedFolderNameOctets) {
      return invalid("is too long: its Maildir++ directory name would exceed " +
                     std::to_string(kMaxEncodedFolderNameOctets) + " octets");
    }
  }
  return CheckedFolderName{std::string(wire_name), levels.size(), false};
}

std::string_view folder_parent(std::string_view wire_name) {
  const size_t slash = wire_name.rfind(kWireSeparator);
  return slash == std::string_view::npos ? std::string_view() : wire_name.substr(0, slash);
}

std::string_view folder_leaf(std::string_view wire_name) {
  const size_t slash = wire_name.rfind(kWireSeparator);
  return slash == std::string_view::npos ? wire_name : wire_name.substr(slash + 1);
}

}  // namespace poplar::store
