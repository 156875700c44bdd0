// Poplar's per-maildrop index file, `<maildir>/poplar-index`: the CRLF size of every message
// whose name does not carry it (no ",W=" field), keyed by base name, so that logins after the
// first never read message bodies. It is only a cache: everything in it can be rebuilt from the
// messages, so a missing, unreadable, corrupt or truncated index is ignored (with a warning)
// and rebuilt, never fatal. UIDLs do not depend on it (see uidl.h).
//
// Format version 1 (text, documented in docs/formats/maildir.md):
//   poplar-index 1\n
//   <size_octets> <escaped base name>\n          one line per message
//   end <count> <checksum: 16 lowercase hex digits>\n
// The base name is escaped as %XX (uppercase hex) for every octet outside 0x21–0x7E and for
// '%' itself, so a line is always one line. The checksum covers every octet before "end" and
// catches truncation and bit rot; see index_checksum().
//
// Must never: be trusted further than its checksum and syntax; block a login because of its
// content; be written except atomically (temporary file in the Maildir, fsync, rename, fsync
// of the directory).
//
// Thread-safety: IndexContents is immutable after parse(); the functions have no shared state.
// The caller holds the maildrop lock, which serializes writers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "store/fs/file_system.h"

namespace poplar::store::maildir {

inline constexpr std::string_view kIndexFileName = "poplar-index";
inline constexpr std::string_view kIndexTempFileName = "poplar-index.tmp";

// The checksum of format 1: a 64-bit FNV-style hash taken 8 octets at a time (so it costs far
// less than the parse), then mixed with the length. See docs/formats/maildir.md.
uint64_t index_checksum(std::string_view bytes);

// Builds the text of an index file, one add() per message.
class IndexBuilder {
 public:
  IndexBuilder();
  void add(std::string_view base, uint64_t size_octets);
  // The complete file. REQUIRES: called once, last.
  std::string finish();

 private:
  std::string text_;
  uint64_t count_ = 0;
};

// A parsed index: base name → CRLF size, in maildrop order (delivery time, then base name),
// which is the order the store writes it in, so a login matches it against the sorted
// directory listing in one merge pass, without a hash table.
class IndexContents {
 public:
  struct Entry {
    uint64_t time;          // delivery_time(base), the first sort key
    std::string_view base;  // points into the parsed text
    uint64_t size_octets;
  };

  IndexContents() = default;
  // Errors: kCorrupt (bad header, unknown version, bad line, duplicate name, count or checksum
  // mismatch, missing end line, anything after it). Entries out of order are sorted, not
  // rejected: the order is an optimisation, not part of the data.
  static Result<IndexContents> parse(std::string text);

  // Sorted by (time, base), base names unique.
  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  // nullptr when the base name is not in the index. O(log n).
  const uint64_t* find(std::string_view base) const;

 private:
  // The entries point into these buffers; unique_ptr keeps them in place across moves.
  std::unique_ptr<std::string> text_;
  std::vector<std::unique_ptr<std::string>> unescaped_;
  std::vector<Entry> entries_;
};

// The maildrop order of index entries and Maildir messages.
inline bool maildrop_order_less(uint64_t time_a, std::string_view base_a, uint64_t time_b,
                                std::string_view base_b) {
  return time_a != time_b ? time_a < time_b : base_a < base_b;
}

// Reads `<maildir>/poplar-index`. Errors: kNotFound (no index yet), kCorrupt, and whatever the
// file system reports; the caller treats every error as "no usable index".
Result<IndexContents> read_index_file(fs::FileSystem& fs, const std::string& maildir);

// Replaces `<maildir>/poplar-index` atomically with `text`. On error the old index (or none) is
// left in place and the temporary file is removed if possible.
Status write_index_file(fs::FileSystem& fs, const std::string& maildir, std::string_view text);

}  // namespace poplar::store::maildir
