// The client side of POP3 responses (RFC 1939 §3, RFC 2449 §8): an incremental parser that is
// fed the server's bytes in pieces of any size and reports status lines and multi-line bodies,
// plus strict parsers for the replies a client reads numbers from (STAT, scan listings, UIDL
// lines). Used by `poplar bench` and meant for `poplar fetch`.
//
// The client says what it expects, in the order it sent its commands (pipelining is just
// several expectations queued): expect(kStatusOnly) for the greeting, USER, PASS, STAT, QUIT;
// a multi-line shape for LIST, UIDL, CAPA, RETR, TOP, whose body follows only a "+OK". Bodies
// are un-stuffed on the way (RFC 1939 §3: a leading "." on a line is removed; the terminating
// "." line is not payload) and delivered line by line (kLines), as spans of payload with their
// line ends (kPayload), or only counted (kCount). A body is scanned only for line starts with
// "." (SSE2, 16 octets at a time) and never copied: a span runs from one such line to the next.
// Payload octets are counted as received: CRLF counts 2.
//
// Server bytes are untrusted: a status line that is neither "+OK", "-ERR" nor a SASL "+"
// continuation, a line longer than the limit, or bytes nobody asked for stop the parser
// (failed()); nothing the peer sends can make it allocate more than the line limit or assert.
//
// No I/O here (pop3/ is sans-I/O). Allocation: the expectation queue and one line buffer
// (used only for a line split across two feeds) grow to their high-water marks and are reused,
// also across reset().
//
// Thread-safety: not thread-safe; one parser per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poplar::pop3 {

enum class StatusKind : uint8_t {
  kOk,            // "+OK"
  kErr,           // "-ERR"
  kContinuation,  // "+ ..." or "+" (RFC 5034 §4: a SASL challenge)
};

// One status line, views into the parser's input or its line buffer: valid only during the
// on_status() call.
struct StatusLine {
  StatusKind kind = StatusKind::kOk;
  // RFC 2449 §8: the response code inside "[...]" at the start of the text, without the
  // brackets ("IN-USE", "SYS/TEMP", "AUTH"); empty when there is none.
  std::string_view code;
  // The text after the status indicator (and after the code and one space, if any).
  std::string_view text;
  // The whole line without its line end, for logs. Untrusted: sanitise before printing.
  std::string_view line;

  bool ok() const { return kind == StatusKind::kOk; }
};

// What the next response looks like (what the client sent decides it).
enum class ResponseShape : uint8_t {
  kStatusOnly,  // one line: greeting, USER, PASS, STAT, QUIT, LIST n, UIDL n, DELE, NOOP, ...
  kLines,       // "+OK" and a body delivered line by line: LIST, UIDL, CAPA
  kPayload,     // "+OK" and a body delivered as un-stuffed spans: RETR, TOP
  kCount,       // "+OK" and a body only counted: RETR when the content does not matter
};

// Receives the parser's events. Every view is valid only during the call. A handler may call
// ClientResponseParser::expect() from inside any callback (to pipeline the next command); it
// must not call feed() or reset().
class ResponseHandler {
 public:
  virtual ~ResponseHandler() = default;
  // The first line of the response expected with `tag`. A multi-line shape has a body only
  // when status.ok(); its events follow.
  virtual void on_status(const StatusLine& status, uint32_t tag) = 0;
  // kLines: one body line, un-stuffed, without its line end.
  virtual void on_line(std::string_view line, uint32_t tag) {}
  // kPayload: the next piece of the un-stuffed body, line ends included. Pieces follow the
  // input's pieces and stuffing dots, not lines.
  virtual void on_payload(std::string_view data, uint32_t tag) {}
  // The terminating "." line of a body (every multi-line shape). payload_octets: the body's
  // octets after un-stuffing, line ends included (CRLF = 2), terminator excluded; for a RETR
  // this is what LIST announced.
  virtual void on_body_end(uint64_t payload_octets, uint32_t tag) {}
};

class ClientResponseParser {
 public:
  enum class Error : uint8_t {
    kNone,
    kBadStatus,       // a first line that is not +OK / -ERR / "+ " (SASL)
    kLineTooLong,     // a status or body line (kLines) longer than the limit
    kUnexpectedData,  // bytes after the last expected response (set_unexpected_data())
  };

  // RFC 2449 §4 caps a status line at 512 octets; the default allows servers that exceed it
  // (and long CAPA or UIDL lines) while bounding what a hostile server can make us hold.
  static constexpr size_t kDefaultMaxLineOctets = 8192;

  explicit ClientResponseParser(size_t max_line_octets = kDefaultMaxLineOctets);

  // Queues the next expected response; tag comes back with its events.
  void expect(ResponseShape shape, uint32_t tag = 0);

  // Consumes server bytes and reports events to handler. Returns the octets consumed: all of
  // data, unless the parser failed (stops at the bad line) or no response is expected any more
  // (stops at the first octet past the last one; the caller may keep the rest, expect(), and
  // feed it again, or treat it as a protocol error).
  size_t feed(std::string_view data, ResponseHandler& handler);

  // Responses expected and not yet complete (the one being parsed included).
  size_t pending() const { return count_; }
  bool failed() const { return error_ != Error::kNone; }
  Error error() const { return error_; }
  // A short description of the error for logs ("status line is not +OK/-ERR", ...).
  std::string_view error_text() const;
  // Marks bytes left over after the last expected response as an error (for callers that
  // treat unsolicited data as a protocol violation).
  void set_unexpected_data() { error_ = Error::kUnexpectedData; }

  // Forgets every expectation and all state (a new connection); keeps the buffers' capacity.
  void reset();

 private:
  enum class Phase : uint8_t { kStatus, kBodyLines, kBodyPayload };
  // Where the payload scanner is inside a body (RFC 1939 §3 byte-stuffing).
  enum class BodyPosition : uint8_t {
    kLineStart,  // the next octet starts a line
    kMid,        // inside a line
    kDot,        // a line started with "."
    kDotCr,      // a line started with ".\r"
  };
  struct Expectation {
    ResponseShape shape;
    uint32_t tag;
  };

  // Takes one line from [*p, end) (joined with the carried part); false when the line is not
  // complete yet (the piece is carried) or too long (error set).
  bool take_line(const char*& p, const char* end, std::string_view& line);
  void handle_status(std::string_view line, ResponseHandler& handler);
  // Scans payload; returns true when the terminator was consumed.
  bool scan_payload(const char*& p, const char* end, ResponseHandler& handler);
  void emit(const char* data, size_t size, ResponseHandler& handler);
  void end_body(ResponseHandler& handler);
  void pop_front();

  size_t max_line_octets_;
  Error error_ = Error::kNone;
  Phase phase_ = Phase::kStatus;
  BodyPosition position_ = BodyPosition::kLineStart;
  Expectation current_{ResponseShape::kStatusOnly, 0};  // the response whose body is parsed
  uint64_t payload_octets_ = 0;
  size_t line_end_octets_ = 0;  // of the line take_line() returned last: 1 (LF) or 2 (CRLF)
  std::string line_;            // the start of a line split across feeds
  // Ring buffer of expectations: count_ entries from head_.
  std::vector<Expectation> queue_;
  size_t head_ = 0;
  size_t count_ = 0;
};

// RFC 1939 §5 STAT: "nn mm" (the text after "+OK "); extra text after a space is allowed.
struct DropListing {
  uint64_t messages = 0;
  uint64_t octets = 0;
};
std::optional<DropListing> parse_drop_listing(std::string_view text);

// RFC 1939 §5 LIST: a scan listing "msg octets" (a LIST body line, or the text after "+OK" of
// LIST n); extra text after a space is allowed. The message number must be at least 1.
struct ScanListing {
  uint32_t number = 0;
  uint64_t octets = 0;
};
std::optional<ScanListing> parse_scan_listing(std::string_view text);

// RFC 1939 §7 UIDL: "msg unique-id", the id 1..70 octets of 0x21..0x7E, nothing after it.
// The view points into text.
struct UniqueIdListing {
  uint32_t number = 0;
  std::string_view unique_id;
};
std::optional<UniqueIdListing> parse_unique_id_listing(std::string_view text);

}  // namespace poplar::pop3
