// Fuzzes the Maildir index parser (store/maildir/index_file.h) with arbitrary file contents.
// Input: the first byte picks the mode. Odd: the rest is the whole file, as found on disk (most
// inputs then stop at the checksum, which is the point of having one). Even: the rest is the
// file up to its end line, and the fuzzer appends a correct "end <count> <checksum>" line, so
// that the header, stamp and message-line parsers are reached with bytes the checksum would
// otherwise have rejected. An index is untrusted input: it must never crash the parser, and an
// accepted one must never yield a name that could leave its subdirectory ('/', NUL, a leading
// '.', empty name), entries out of maildrop order, or a table that does not survive a round trip
// through IndexBuilder.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/maildir/index_file.h"

namespace {

using poplar::store::maildir::index_checksum;
using poplar::store::maildir::IndexBuilder;
using poplar::store::maildir::IndexContents;
using poplar::store::maildir::maildrop_order_less;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_maildir_index: %s\n", what);
  std::abort();
}

std::string with_end_line(std::string_view body) {
  // The count the end line announces: lines after the header and the two stamp lines.
  size_t lines = 0;
  for (char c : body) {
    lines += c == '\n' ? 1 : 0;
  }
  const size_t count = lines >= 3 ? lines - 3 : 0;
  std::string text(body);
  char end[64];
  std::snprintf(end, sizeof end, "end %zu %016llx\n", count,
                static_cast<unsigned long long>(index_checksum(body)));
  text += end;
  return text;
}

void check_accepted(const IndexContents& index) {
  const IndexContents::Entry* previous = nullptr;
  for (const auto& entry : index.entries()) {
    std::string_view name = index.name(entry);
    if (name.empty() || name.front() == '.' || name.find('/') != std::string_view::npos ||
        name.find('\0') != std::string_view::npos) {
      fail("accepted a name that could leave its subdirectory");
    }
    // (An empty base name, as in ":2,S", is allowed: its UIDL is a hash; uidl.h.)
    if (entry.base_length > entry.name_length) {
      fail("base name longer than the name");
    }
    if (previous != nullptr &&
        maildrop_order_less(entry.time, index.base(entry), previous->time, index.base(*previous))) {
      fail("entries out of maildrop order");
    }
    previous = &entry;
  }
  // Round trip: the same entries written again parse to the same table.
  IndexBuilder builder(index.stamp(poplar::store::maildir::Subdir::kNew),
                       index.stamp(poplar::store::maildir::Subdir::kCur));
  for (const auto& entry : index.entries()) {
    builder.add(entry.dir, index.name(entry), entry.size_octets);
  }
  auto again = IndexContents::parse(std::string_view(builder.finish()));
  if (!again.is_ok()) {
    fail("an accepted index does not parse after a round trip");
  }
  if (again->size() != index.size()) {
    fail("round trip changed the number of entries");
  }
  for (size_t i = 0; i < index.size(); ++i) {
    const auto& a = index.entries()[i];
    const auto& b = again->entries()[i];
    if (a.dir != b.dir || a.size_octets != b.size_octets || index.name(a) != again->name(b)) {
      fail("round trip changed an entry");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view rest(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  const std::string text = (bytes[0] & 1) != 0 ? std::string(rest) : with_end_line(rest);
  auto parsed = IndexContents::parse(std::string_view(text));
  if (parsed.is_ok()) {
    check_accepted(*parsed);
  }
  return 0;
}
