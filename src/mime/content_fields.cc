// Content-Type / Content-Disposition / Content-Transfer-Encoding values read with GMime 3
// (content_fields.h). GMime objects never leave this file.
//
// Must never: let a GMime object or a pointer into one escape; call GMime before g_mime_init().
//
// Thread-safety: GMime is initialised under std::call_once; each call has its own options.
#include "mime/content_fields.h"

#include <gmime/gmime.h>

#include <cstdint>
#include <memory>
#include <mutex>

namespace poplar::mime {
namespace {

void ensure_gmime_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// RFC 2045 §5.1 token characters.
bool is_token(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F ||
        std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// Length of the UTF-8 sequence starting at s[i] when it is well formed (shortest form, no
// surrogates, at most U+10FFFF), else 0.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  if (b < 0x80) {
    return 1;
  }
  size_t n;
  uint32_t cp;
  if ((b & 0xE0) == 0xC0) {
    n = 2;
    cp = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
    cp = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) {
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

// Valid UTF-8, no C0/C1 control characters or DEL, trimmed, at most kMaxNameOctets octets.
std::string sanitise_name(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size();) {
    size_t n = utf8_sequence_length(raw, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    auto b = static_cast<unsigned char>(raw[i]);
    bool c1 = n == 2 && b == 0xC2 && static_cast<unsigned char>(raw[i + 1]) < 0xA0;
    if ((n == 1 && (b < 0x20 || b == 0x7F)) || c1) {
      out += ' ';
    } else {
      out.append(raw.substr(i, n));
    }
    i += n;
  }
  size_t first = out.find_first_not_of(' ');
  if (first == std::string::npos) {
    return {};
  }
  out = out.substr(first, out.find_last_not_of(' ') - first + 1);
  if (out.size() > kMaxNameOctets) {
    size_t cut = kMaxNameOctets;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
      --cut;  // never split a character
    }
    out.resize(cut);
  }
  return out;
}

// GMime reports an unparsable Content-Type through the options' warning callback.
void note_warning(gint64 /*offset*/, GMimeParserWarning code, const gchar* /*item*/,
                  gpointer user_data) {
  if (code == GMIME_WARN_INVALID_CONTENT_TYPE) {
    *static_cast<bool*>(user_data) = true;
  }
}

struct OptionsDeleter {
  void operator()(GMimeParserOptions* o) const { g_mime_parser_options_free(o); }
};
struct ObjectDeleter {
  void operator()(void* o) const { g_object_unref(o); }
};

}  // namespace

ContentFields interpret_content_fields(const RawContentFields& raw) {
  ensure_gmime_initialised();
  ContentFields out;
  bool invalid_type = false;
  std::unique_ptr<GMimeParserOptions, OptionsDeleter> options(g_mime_parser_options_new());
  g_mime_parser_options_set_warning_callback(options.get(), note_warning, &invalid_type);
  // Loose RFC 2047 decoding: real mailers put encoded words inside quoted parameters.
  g_mime_parser_options_set_rfc2047_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);

  std::string name;
  if (raw.content_type.has_value()) {
    std::unique_ptr<GMimeContentType, ObjectDeleter> type(
        g_mime_content_type_parse(options.get(), raw.content_type->c_str()));
    if (type != nullptr) {
      const char* media = g_mime_content_type_get_media_type(type.get());
      const char* sub = g_mime_content_type_get_media_subtype(type.get());
      if (!invalid_type && media != nullptr && sub != nullptr && is_token(media) && is_token(sub)) {
        out.type = ascii_lower(media) + "/" + ascii_lower(sub);
      }
      if (const char* b = g_mime_content_type_get_parameter(type.get(), "boundary")) {
        out.boundary = b;
      }
      if (const char* n = g_mime_content_type_get_parameter(type.get(), "name")) {
        name = n;
      }
    }
  }
  if (raw.content_disposition.has_value()) {
    std::unique_ptr<GMimeContentDisposition, ObjectDeleter> disposition(
        g_mime_content_disposition_parse(options.get(), raw.content_disposition->c_str()));
    if (disposition != nullptr) {
      if (const char* f = g_mime_content_disposition_get_parameter(disposition.get(), "filename");
          f != nullptr && *f != '\0') {
        name = f;
      }
    }
  }
  out.name = sanitise_name(name);
  if (raw.content_transfer_encoding.has_value()) {
    switch (g_mime_content_encoding_from_string(raw.content_transfer_encoding->c_str())) {
      case GMIME_CONTENT_ENCODING_BASE64:
      case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
      case GMIME_CONTENT_ENCODING_UUENCODE:
        out.encoded = true;
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace poplar::mime
