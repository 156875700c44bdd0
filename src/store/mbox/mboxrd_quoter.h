// MboxrdQuoter: the mboxrd body quoting (RFC 4155 §2 and its reference to mboxrd;
// https://www.loc.gov/preservation/digital/formats/fdd/fdd000385.shtml): every line that
// matches ^>*From  (any number of '>', then "From" and a space) gets one more '>' in front, so
// no line of a message can be taken for the From_ line of the next one, and a reader removes
// exactly one '>' to get the line back. "From:" (a header field, no space) is not quoted.
//
// Streaming: the text (LF line ends) comes in chunks cut anywhere; the start of a line is held
// back only while it could still become a match ('>' runs are counted, not stored), so the
// quoter holds at most a few octets whatever the input.
//
// Must never: change any octet other than by adding '>' at the start of a matching line, or
// depend on how the input is cut into chunks.
//
// Thread-safety: a value type; one object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace poplar::store::mbox {

class MboxrdQuoter {
 public:
  // Appends the quoted form of text to *out.
  void quote(std::string_view text, std::string* out);
  // Ends the message: appends a line start still held back (e.g. ">>Fro" at the very end).
  void finish(std::string* out);

 private:
  // At the start of a line: counting '>' (matched_ == 0) or matching "From " (matched_ > 0).
  bool at_line_start_ = true;
  uint64_t greater_thans_ = 0;
  size_t matched_ = 0;

  void release_held(std::string* out);
};

}  // namespace poplar::store::mbox
