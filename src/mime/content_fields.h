// The meaning of a MIME part's Content-Type, Content-Disposition and Content-Transfer-Encoding
// field values, read with GMime 3 (RFC 2045 tokens and quoting, RFC 2231 parameter
// continuations and charsets, RFC 2047 encoded words inside parameters, charset conversion to
// UTF-8). This file and its .cc are the only ones that know GMime exists.
//
// Must never: fail, or return a type or name that could break a PART listing line: the type is
// lower-case "token/token" or empty, the name is valid UTF-8 without control characters.
//
// Thread-safety: safe to call from any thread (GMime is initialised once, and every call uses
// its own parser options).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace poplar::mime {

// The raw (unfolded) values of a part's fields; nullopt when the field is absent.
struct RawContentFields {
  std::optional<std::string> content_type;
  std::optional<std::string> content_disposition;
  std::optional<std::string> content_transfer_encoding;
};

struct ContentFields {
  // "type/subtype", lower case; empty when Content-Type is absent or not a valid media type
  // (the caller applies the RFC 2045/2046 default).
  std::string type;
  // The boundary parameter of a multipart type, as given (empty when absent).
  std::string boundary;
  // Content-Disposition's filename parameter, else Content-Type's name parameter, decoded to
  // UTF-8; control characters become spaces, invalid UTF-8 becomes U+FFFD, at most
  // kMaxNameOctets octets (cut at a character boundary). Empty when there is none.
  std::string name;
  // Content-Transfer-Encoding is base64, quoted-printable or x-uuencode: the body is not
  // readable as it stands (an encoded message/rfc822 body is not parsed further).
  bool encoded = false;
};

inline constexpr size_t kMaxNameOctets = 255;

ContentFields interpret_content_fields(const RawContentFields& raw);

}  // namespace poplar::mime
