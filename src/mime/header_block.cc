// HeaderBlock: the Content-* fields of one header block (header_block.h).
//
// Must never: store a field it does not keep.
//
// Thread-safety: no shared state.
#include "mime/header_block.h"

#include <string>

namespace poplar::mime {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) {
      return false;
    }
  }
  return true;
}

// The field name of a field line ("Content-Type" of "Content-Type : text/plain"), or empty.
std::string_view field_name(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return {};
  }
  std::string_view name = line.substr(0, colon);
  while (!name.empty() && is_blank(name.back())) {
    name.remove_suffix(1);
  }
  if (name.empty()) {
    return {};
  }
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {  // RFC 5322 §3.6.8 ftext
      return {};
    }
  }
  return name;
}

}  // namespace

bool HeaderBlock::is_field_start(std::string_view line) { return !field_name(line).empty(); }

std::optional<std::string>& HeaderBlock::kept(Field field) {
  switch (field) {
    case Field::kType:
      return fields_.content_type;
    case Field::kDisposition:
      return fields_.content_disposition;
    case Field::kTransferEncoding:
    case Field::kNone:  // never asked for: current_ is checked first
      break;
  }
  return fields_.content_transfer_encoding;
}

Status HeaderBlock::add_line(std::string_view line, bool complete) {
  if (!line.empty() && is_blank(line.front())) {
    // A folded continuation of the previous field (RFC 5322 §2.2.3: unfolding removes only
    // the line end).
    if (current_ == Field::kNone) {
      return Status::ok();
    }
  } else {
    current_ = Field::kNone;
    std::string_view name = field_name(line);
    Field field = Field::kNone;
    if (equals_ignoring_case(name, "content-type")) {
      field = Field::kType;
    } else if (equals_ignoring_case(name, "content-disposition")) {
      field = Field::kDisposition;
    } else if (equals_ignoring_case(name, "content-transfer-encoding")) {
      field = Field::kTransferEncoding;
    }
    if (field == Field::kNone || kept(field).has_value()) {
      return Status::ok();  // not kept, or a repeated field: the first one counts
    }
    kept(field).emplace();
    current_ = field;
    line.remove_prefix(line.find(':') + 1);
  }
  std::string& value = *kept(current_);
  if (!complete || value.size() + line.size() > max_field_octets_) {
    return Status::error(ErrorCode::kLimit, "a MIME header field (Content-*) is longer than " +
                                                std::to_string(max_field_octets_) + " octets");
  }
  value.append(line);
  return Status::ok();
}

}  // namespace poplar::mime
