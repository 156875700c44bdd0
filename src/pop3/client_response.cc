// ClientResponseParser and the reply parsers. See client_response.h.
//
// Thread-safety: see client_response.h.
#include "pop3/client_response.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/strict_number.h"
#include "store/uidl_syntax.h"

namespace poplar::pop3 {
namespace {

// Splits "first rest" at the first space; rest is empty when there is none.
std::string_view split_word(std::string_view text, std::string_view& rest) {
  size_t space = text.find(' ');
  if (space == std::string_view::npos) {
    rest = {};
    return text;
  }
  rest = text.substr(space + 1);
  return text.substr(0, space);
}

// The first LF in [p, end) that is followed by a "." (a line that starts with one: stuffing or
// the terminator), or nullptr. A LF in the last octet is not looked at (its next octet is not
// here yet). RETR bodies are scanned here, so it matters: with SSE2 (every x86-64) sixteen
// octets are compared at a time, which is several times faster than memchr per line end on
// mail whose lines average 70 octets; elsewhere memchr per line end.
const char* find_lf_dot(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i dot = _mm_set1_epi8('.');
  while (end - p > 16) {
    const __m128i here = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
    const int mask =
        _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(here, lf), _mm_cmpeq_epi8(next, dot)));
    if (mask != 0) {
      return p + __builtin_ctz(static_cast<unsigned>(mask));
    }
    p += 16;
  }
#endif
  for (;;) {
    const char* found =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (found == nullptr || found + 1 == end) {
      return nullptr;
    }
    if (found[1] == '.') {
      return found;
    }
    p = found + 1;
  }
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

// "+OK", "-ERR", "+": the indicator must end the line or be followed by a space.
bool has_indicator(std::string_view line, std::string_view indicator, std::string_view& rest) {
  if (!starts_with(line, indicator)) {
    return false;
  }
  if (line.size() == indicator.size()) {
    rest = {};
    return true;
  }
  if (line[indicator.size()] != ' ') {
    return false;
  }
  rest = line.substr(indicator.size() + 1);
  return true;
}

}  // namespace

ClientResponseParser::ClientResponseParser(size_t max_line_octets)
    : max_line_octets_(max_line_octets) {}

void ClientResponseParser::expect(ResponseShape shape, uint32_t tag) {
  if (count_ == queue_.size()) {
    // Grow the ring, unrolling it so that head_ is 0 again.
    std::vector<Expectation> grown;
    grown.reserve(queue_.empty() ? 8 : queue_.size() * 2);
    for (size_t i = 0; i < count_; ++i) {
      grown.push_back(queue_[(head_ + i) % queue_.size()]);
    }
    grown.resize(grown.capacity(), Expectation{ResponseShape::kStatusOnly, 0});
    queue_.swap(grown);
    head_ = 0;
  }
  queue_[(head_ + count_) % queue_.size()] = Expectation{shape, tag};
  ++count_;
}

void ClientResponseParser::pop_front() {
  head_ = (head_ + 1) % queue_.size();
  --count_;
}

void ClientResponseParser::reset() {
  error_ = Error::kNone;
  phase_ = Phase::kStatus;
  position_ = BodyPosition::kLineStart;
  payload_octets_ = 0;
  line_.clear();
  head_ = 0;
  count_ = 0;
}

std::string_view ClientResponseParser::error_text() const {
  switch (error_) {
    case Error::kNone:
      return "no error";
    case Error::kBadStatus:
      return "status line is not +OK or -ERR";
    case Error::kLineTooLong:
      return "line too long";
    case Error::kUnexpectedData:
      return "data nobody asked for";
  }
  return "unknown error";
}

bool ClientResponseParser::take_line(const char*& p, const char* end, std::string_view& line) {
  size_t available = static_cast<size_t>(end - p);
  const char* lf = static_cast<const char*>(std::memchr(p, '\n', available));
  if (lf == nullptr) {
    if (line_.size() + available >= max_line_octets_) {
      error_ = Error::kLineTooLong;
      return false;
    }
    line_.append(p, available);
    p = end;
    return false;
  }
  size_t piece = static_cast<size_t>(lf - p);
  // The limit counts the line end (like RFC 2449 §4's 512 octets).
  if (line_.size() + piece + 1 > max_line_octets_) {
    error_ = Error::kLineTooLong;
    return false;
  }
  if (line_.empty()) {
    line = std::string_view(p, piece);
  } else {
    line_.append(p, piece);
    line = line_;
  }
  p = lf + 1;
  line_end_octets_ = 1;
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
    line_end_octets_ = 2;
  }
  return true;
}

void ClientResponseParser::handle_status(std::string_view line, ResponseHandler& handler) {
  StatusLine status;
  status.line = line;
  std::string_view rest;
  if (has_indicator(line, "+OK", rest)) {
    status.kind = StatusKind::kOk;
  } else if (has_indicator(line, "-ERR", rest)) {
    status.kind = StatusKind::kErr;
  } else if (has_indicator(line, "+", rest)) {
    status.kind = StatusKind::kContinuation;
  } else {
    error_ = Error::kBadStatus;
    return;
  }
  // RFC 2449 §8: resp-code = "[" resp-level *("/" resp-level) "]", first in the text.
  if (status.kind != StatusKind::kContinuation && !rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close != std::string_view::npos) {
      status.code = rest.substr(1, close - 1);
      rest.remove_prefix(close + 1);
      if (!rest.empty() && rest.front() == ' ') {
        rest.remove_prefix(1);
      }
    }
  }
  status.text = rest;
  const Expectation expected = queue_[head_];
  pop_front();
  if (status.ok() && expected.shape != ResponseShape::kStatusOnly) {
    current_ = expected;
    payload_octets_ = 0;
    position_ = BodyPosition::kLineStart;
    phase_ = expected.shape == ResponseShape::kLines ? Phase::kBodyLines : Phase::kBodyPayload;
  }
  handler.on_status(status, expected.tag);
}

void ClientResponseParser::emit(const char* data, size_t size, ResponseHandler& handler) {
  payload_octets_ += size;
  if (current_.shape == ResponseShape::kPayload) {
    handler.on_payload(std::string_view(data, size), current_.tag);
  }
}

void ClientResponseParser::end_body(ResponseHandler& handler) {
  phase_ = Phase::kStatus;
  handler.on_body_end(payload_octets_, current_.tag);
}

bool ClientResponseParser::scan_payload(const char*& p, const char* end, ResponseHandler& handler) {
  while (p < end) {
    switch (position_) {
      case BodyPosition::kLineStart:
        if (*p == '.') {
          position_ = BodyPosition::kDot;
          ++p;
          continue;
        }
        position_ = BodyPosition::kMid;
        break;
      case BodyPosition::kDot:
        if (*p == '\r') {
          position_ = BodyPosition::kDotCr;
          ++p;
          continue;
        }
        if (*p == '\n') {  // ".\n": the terminator with a bare LF (leniency, as for lines)
          ++p;
          return true;
        }
        // RFC 1939 §3: the stuffed "." is dropped; this octet is data.
        position_ = BodyPosition::kMid;
        break;
      case BodyPosition::kDotCr:
        if (*p == '\n') {
          ++p;
          return true;
        }
        // ".\r" and more: the "." was stuffing, the CR is data.
        emit("\r", 1, handler);
        position_ = BodyPosition::kMid;
        break;
      case BodyPosition::kMid: {
        // Everything up to the next line that starts with "." (or to the end of the input)
        // is payload as it stands: one span, whatever the number of lines in it.
        const char* lf = find_lf_dot(p, end);
        if (lf == nullptr) {
          emit(p, static_cast<size_t>(end - p), handler);
          position_ = end[-1] == '\n' ? BodyPosition::kLineStart : BodyPosition::kMid;
          p = end;
          return false;
        }
        emit(p, static_cast<size_t>(lf + 1 - p), handler);
        p = lf + 1;
        position_ = BodyPosition::kLineStart;
        break;
      }
    }
  }
  return false;
}

size_t ClientResponseParser::feed(std::string_view data, ResponseHandler& handler) {
  const char* p = data.data();
  const char* const end = p + data.size();
  while (p < end && error_ == Error::kNone) {
    switch (phase_) {
      case Phase::kStatus: {
        if (count_ == 0) {
          return static_cast<size_t>(p - data.data());
        }
        std::string_view line;
        if (!take_line(p, end, line)) {
          break;
        }
        handle_status(line, handler);
        line_.clear();
        break;
      }
      case Phase::kBodyLines: {
        std::string_view line;
        if (!take_line(p, end, line)) {
          break;
        }
        if (line == ".") {
          line_.clear();
          end_body(handler);
          break;
        }
        // Octets as received, stuffing dot excluded: the line and its line end.
        size_t raw = line.size() + line_end_octets_;
        if (!line.empty() && line.front() == '.') {
          line.remove_prefix(1);
          --raw;
        }
        payload_octets_ += raw;
        handler.on_line(line, current_.tag);
        line_.clear();
        break;
      }
      case Phase::kBodyPayload:
        if (scan_payload(p, end, handler)) {
          end_body(handler);
        }
        break;
    }
  }
  return static_cast<size_t>(p - data.data());
}

std::optional<DropListing> parse_drop_listing(std::string_view text) {
  std::string_view rest;
  auto messages = parse_u64(split_word(text, rest));
  auto octets = parse_u64(split_word(rest, rest));
  if (!messages || !octets) {
    return std::nullopt;
  }
  return DropListing{*messages, *octets};
}

std::optional<ScanListing> parse_scan_listing(std::string_view text) {
  std::string_view rest;
  auto number = parse_u32(split_word(text, rest));
  auto octets = parse_u64(split_word(rest, rest));
  if (!number || *number == 0 || !octets) {
    return std::nullopt;
  }
  return ScanListing{*number, *octets};
}

std::optional<UniqueIdListing> parse_unique_id_listing(std::string_view text) {
  std::string_view rest;
  auto number = parse_u32(split_word(text, rest));
  if (!number || *number == 0 || !store::is_valid_uidl(rest)) {
    return std::nullopt;
  }
  return UniqueIdListing{*number, rest};
}

}  // namespace poplar::pop3
