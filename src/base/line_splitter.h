// Splits a byte stream into lines ended by CRLF, or by a bare LF (the one leniency popa3d and
// Dovecot allow), with a hard maximum line length. Resumable: input may arrive in any pieces.
//
// An overlong line is reported once as kTooLong and then skipped up to its LF without being
// stored, so a 10 MB line without CRLF costs no more memory than max_line_octets.
// No I/O here.
//
// Thread-safety: not thread-safe; one per connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace poplar {

class LineSplitter {
 public:
  enum class Kind { kNeedMore, kLine, kTooLong };
  struct Next {
    Kind kind;
    std::string_view line;  // without the line end; valid until the next call to any method
  };

  // max_line_octets counts the line end too (RFC 2449 §4: 255 octets including CRLF).
  explicit LineSplitter(size_t max_line_octets) : max_line_octets_(max_line_octets) {}

  void set_max_line_octets(size_t n) { max_line_octets_ = n; }
  size_t max_line_octets() const { return max_line_octets_; }

  void append(std::string_view data);
  Next next();
  // Drops everything buffered (STLS: input pipelined behind it must not be executed).
  void clear();
  // Bytes held that have not been returned as lines.
  size_t buffered() const { return buffer_.size() - start_; }

 private:
  size_t max_line_octets_;
  std::string buffer_;
  size_t start_ = 0;         // first byte not yet returned
  size_t scanned_ = 0;       // bytes after start_ already known to hold no LF
  bool discarding_ = false;  // inside an overlong line, dropping bytes up to its LF
};

}  // namespace poplar
