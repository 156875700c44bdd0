// StructureScanner: the boundary scan that finds a message's MIME parts (mime_structure.h).
//
// The message is read line by line (LineScanner). An open stack of entities (the root, the
// multiparts and message/rfc822 parts around the current line, and the current leaf) says which
// boundary delimiters can end what: as in GMime, a delimiter of an enclosing multipart also ends
// every entity inside it, the line end before a delimiter belongs to the delimiter, and a
// delimiter may be followed by blanks. A closed multipart's delimiter is no longer recognised
// (its epilogue runs until an enclosing delimiter or the end).
//
// Must never: store a body octet, hold more than the stack (bounded by Limits::max_depth) and
// one line head, or emit an extent outside the message.
//
// Thread-safety: no shared state (content_fields.cc guards GMime's one-time initialisation).
#include "mime/mime_structure.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "mime/content_fields.h"
#include "mime/header_block.h"
#include "mime/line_scanner.h"

namespace poplar::mime {
namespace {

// A line head long enough for any usable delimiter line; header lines are kept up to
// Limits::max_field_octets when that is larger.
constexpr size_t kMinLineHead = 1024;
// RFC 2046 §5.1.1 allows 70; longer ones are seen in the wild, so be generous.
constexpr size_t kMaxBoundaryOctets = 200;
constexpr size_t kReadBlockOctets = 64 * 1024;

// A place between two octets of the message, with what the wire size of a range ending there
// needs: the bare LFs before it and whether the octet before it is an LF.
struct Position {
  uint64_t offset = 0;
  uint64_t bare_lf_before = 0;
  bool after_lf = false;
};

const Position& later(const Position& a, const Position& b) { return b.offset > a.offset ? b : a; }

// store/crlf_size.h's rule for the range [a, b): bare LFs count 2, and a CRLF is added when
// the range does not end with an LF.
Extent extent_between(const Position& a, const Position& b) {
  if (b.offset <= a.offset) {
    return Extent{a.offset, 0, 0};
  }
  uint64_t length = b.offset - a.offset;
  return Extent{a.offset, length,
                length + (b.bare_lf_before - a.bare_lf_before) + (b.after_lf ? 0 : 2)};
}

bool only_blanks(std::string_view s) {
  return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

bool usable_boundary(std::string_view b) {
  return !b.empty() && b.size() <= kMaxBoundaryOctets &&
         b.find_first_of("\r\n") == std::string_view::npos;
}

std::string child_section(const std::string& prefix, uint32_t n) {
  return prefix.empty() ? std::to_string(n) : prefix + "." + std::to_string(n);
}

}  // namespace

class StructureScanner::Impl {
 public:
  explicit Impl(const Limits& limits)
      : limits_(limits), lines_(std::max(limits.max_field_octets, kMinLineHead)) {
    Pending root(limits_.max_field_octets);
    root.leaf_section = "1";
    pending_ = std::move(root);
  }

  Status feed(std::string_view chunk) {
    if (!status_.is_ok() || finished_) {
      return finished_ ? Status::error(ErrorCode::kInvalidInput, "feed() after finish()") : status_;
    }
    status_ = lines_.feed(chunk, [this](const Line& line) { return on_line(line); });
    return status_;
  }

  Result<std::vector<PartInfo>> finish() {
    if (!status_.is_ok()) {
      return status_;
    }
    if (!finished_) {
      finished_ = true;
      status_ = lines_.finish([this](const Line& line) { return on_line(line); });
      if (status_.is_ok()) {
        status_ = end_at(Position{lines_.octets(), lines_.bare_lf_count(), lines_.ends_with_lf()});
      }
      if (!status_.is_ok()) {
        return status_;
      }
    }
    return parts_;
  }

 private:
  enum class Kind { kLeaf, kMessage, kMultipart };

  struct Entity {
    Kind kind = Kind::kLeaf;
    size_t listed = 0;  // kLeaf, kMessage: its index in parts_
    Position body_start;
    // kMultipart only: its delimiter ("--" + boundary), its children's section prefix, and
    // what it is listed as should it end without any part (one text/plain part).
    std::string delimiter;
    std::string child_prefix;
    std::string leaf_section;
    Extent header;
    std::string name;
    bool digest = false;  // multipart/digest: a part without Content-Type is message/rfc822
    bool closed = false;  // its close delimiter was seen: the rest is epilogue
    uint32_t children = 0;
  };

  // An entity whose header block is being read.
  struct Pending {
    explicit Pending(size_t max_field_octets) : block(max_field_octets) {}
    std::string leaf_section;  // its section unless it is a multipart
    std::string child_prefix;  // its children's section prefix if it is a multipart
    Position header_start;
    bool in_digest = false;
    bool enclosed = false;  // the message enclosed by a message/rfc822 part
    bool saw_line = false;
    HeaderBlock block;
  };

  Status on_line(const Line& line) {
    Position start{line.offset, line.bare_lf_before, line.offset > 0};
    Position after{line.offset + line.length, line.bare_lf_before + (line.eol_octets == 1 ? 1 : 0),
                   line.eol_octets > 0};
    // Where whatever precedes this line ends if this line is a delimiter: before the
    // previous line's line end.
    Position cut = start;
    if (line.offset > 0) {
      cut = Position{line.offset - prev_eol_octets_,
                     line.bare_lf_before - (prev_eol_octets_ == 1 ? 1 : 0), prev_line_empty_};
    }
    Status s;
    bool close = false;
    if (std::optional<size_t> frame = find_delimiter(line, &close)) {
      s = on_delimiter(*frame, close, cut, after);
    } else if (pending_.has_value()) {
      s = on_header_line(line, start, after);
    }
    prev_eol_octets_ = static_cast<uint64_t>(line.eol_octets);
    prev_line_empty_ = line.content_length == 0;
    return s;
  }

  // The stack index of the open multipart whose delimiter `line` is, if any.
  std::optional<size_t> find_delimiter(const Line& line, bool* close) const {
    std::string_view head = line.head;
    if (!line.head_complete() || !head.starts_with("--")) {
      return std::nullopt;
    }
    for (size_t i = stack_.size(); i-- > 0;) {
      const Entity& e = stack_[i];
      if (e.kind != Kind::kMultipart || e.closed || !head.starts_with(e.delimiter)) {
        continue;
      }
      std::string_view rest = head.substr(e.delimiter.size());
      if (rest.starts_with("--") && only_blanks(rest.substr(2))) {
        *close = true;
        return i;
      }
      if (only_blanks(rest)) {
        *close = false;
        return i;
      }
    }
    return std::nullopt;
  }

  Status on_delimiter(size_t frame, bool close, const Position& cut, const Position& after) {
    while (pending_.has_value()) {  // headers ended by the delimiter: the part has no body
      if (Status s = end_headers(cut, cut); !s.is_ok()) {
        return s;
      }
    }
    while (stack_.size() > frame + 1) {
      close_top(cut);
    }
    Entity& multipart = stack_[frame];
    if (close) {
      multipart.closed = true;
      return Status::ok();
    }
    ++multipart.children;
    Pending child(limits_.max_field_octets);
    child.leaf_section = child_section(multipart.child_prefix, multipart.children);
    child.child_prefix = child.leaf_section;
    child.header_start = after;
    child.in_digest = multipart.digest;
    pending_ = std::move(child);
    return Status::ok();
  }

  Status on_header_line(const Line& line, const Position& start, const Position& after) {
    bool first = !pending_->saw_line;
    pending_->saw_line = true;
    if (line.content_length == 0 && line.eol_octets > 0) {
      return end_headers(after, after);
    }
    if (first && !HeaderBlock::is_field_start(line.head)) {
      // No header block at all (RFC 2046 wants an empty line first): the body starts here.
      return end_headers(start, start);
    }
    return pending_->block.add_line(line.head, line.head_complete());
  }

  // Ends and interprets the pending header block: pushes the entity it starts (and, for a
  // message/rfc822 part, starts reading the enclosed message's header).
  Status end_headers(const Position& header_end_at, const Position& body_start_at) {
    Pending p = std::move(*pending_);
    pending_.reset();
    if (p.enclosed && !p.saw_line) {
      return Status::ok();  // an empty message/rfc822 body encloses nothing
    }
    if (++entities_ > limits_.max_parts) {
      return Status::error(
          ErrorCode::kLimit,
          "the message has more than " + std::to_string(limits_.max_parts) + " MIME parts");
    }
    const Position& header_end = later(p.header_start, header_end_at);
    const Position& body_start = later(header_end, body_start_at);
    Extent header = extent_between(p.header_start, header_end);
    ContentFields fields = interpret_content_fields(p.block.fields());
    std::string type = !fields.type.empty() ? fields.type
                       : p.in_digest        ? "message/rfc822"
                                            : "text/plain";
    if (type.starts_with("multipart/")) {
      if (usable_boundary(fields.boundary)) {
        if (Status s = enter_container(); !s.is_ok()) {
          return s;
        }
        Entity multipart;
        multipart.kind = Kind::kMultipart;
        multipart.body_start = body_start;
        multipart.delimiter = "--" + fields.boundary;
        multipart.child_prefix = p.child_prefix;
        multipart.leaf_section = p.leaf_section;
        multipart.header = header;
        multipart.name = fields.name;
        multipart.digest = type == "multipart/digest";
        stack_.push_back(std::move(multipart));
        return Status::ok();
      }
      type = "text/plain";  // no usable boundary: what cannot be parsed is text/plain
    }
    // An encoded message/rfc822 body (not allowed by RFC 2046 §5.2.1, but seen) is not parsed.
    bool message = (type == "message/rfc822" || type == "message/global") && !fields.encoded;
    if (message) {
      if (Status s = enter_container(); !s.is_ok()) {
        return s;
      }
    }
    parts_.push_back(
        PartInfo{p.leaf_section, type, header, Extent{body_start.offset, 0, 0}, fields.name});
    Entity entity;
    entity.kind = message ? Kind::kMessage : Kind::kLeaf;
    entity.listed = parts_.size() - 1;
    entity.body_start = body_start;
    stack_.push_back(std::move(entity));
    if (message) {
      Pending enclosed(limits_.max_field_octets);
      enclosed.leaf_section = p.leaf_section + ".1";
      enclosed.child_prefix = p.leaf_section;
      enclosed.header_start = body_start;
      enclosed.enclosed = true;
      pending_ = std::move(enclosed);
    }
    return Status::ok();
  }

  Status enter_container() {
    if (++containers_ > limits_.max_depth) {
      return Status::error(ErrorCode::kLimit, "the message's MIME parts nest deeper than " +
                                                  std::to_string(limits_.max_depth) + " levels");
    }
    return Status::ok();
  }

  void close_top(const Position& end) {
    Entity e = std::move(stack_.back());
    stack_.pop_back();
    if (e.kind != Kind::kLeaf) {
      --containers_;
    }
    if (e.kind != Kind::kMultipart) {
      parts_[e.listed].body = extent_between(e.body_start, end);
    } else if (e.children == 0) {
      // A multipart without any part: one text/plain part, its whole body.
      parts_.push_back(PartInfo{e.leaf_section, "text/plain", e.header,
                                extent_between(e.body_start, end), e.name});
    }
  }

  // The end of the message: ends a pending header block and every open entity.
  Status end_at(const Position& end) {
    while (pending_.has_value()) {
      if (Status s = end_headers(end, end); !s.is_ok()) {
        return s;
      }
    }
    while (!stack_.empty()) {
      close_top(end);
    }
    return Status::ok();
  }

  Limits limits_;
  LineScanner lines_;
  Status status_;
  bool finished_ = false;
  std::optional<Pending> pending_;
  std::vector<Entity> stack_;
  std::vector<PartInfo> parts_;
  size_t entities_ = 0;
  size_t containers_ = 0;
  uint64_t prev_eol_octets_ = 0;
  bool prev_line_empty_ = false;
};

StructureScanner::StructureScanner(const Limits& limits) : impl_(std::make_unique<Impl>(limits)) {}
StructureScanner::~StructureScanner() = default;
Status StructureScanner::feed(std::string_view chunk) { return impl_->feed(chunk); }
Result<std::vector<PartInfo>> StructureScanner::finish() { return impl_->finish(); }

Result<std::vector<PartInfo>> parse_structure(const ReadFunction& read, const Limits& limits) {
  StructureScanner scanner(limits);
  std::vector<char> block(kReadBlockOctets);
  for (;;) {
    Result<size_t> n = read(std::span<char>(block));
    if (!n.is_ok()) {
      return n.status();
    }
    if (*n == 0) {
      break;
    }
    if (Status s = scanner.feed(std::string_view(block.data(), std::min(*n, block.size())));
        !s.is_ok()) {
      return s;
    }
  }
  return scanner.finish();
}

Result<std::vector<PartInfo>> parse_structure(std::string_view message, const Limits& limits) {
  StructureScanner scanner(limits);
  if (Status s = scanner.feed(message); !s.is_ok()) {
    return s;
  }
  return scanner.finish();
}

}  // namespace poplar::mime
