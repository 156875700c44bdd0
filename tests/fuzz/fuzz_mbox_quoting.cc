// Fuzzes what an mbox delivery does to an untrusted message before any byte reaches the disk:
// CRLF → LF (store/lf_line_ends.h), mboxrd quoting (store/mbox/mboxrd_quoter.h) and the envelope
// sender taken from Return-Path (store/mbox/from_line.h). The first input byte picks the piece
// size; the rest is the message. Aborts when:
//   - the output depends on how the input is cut;
//   - removing one '>' from every ^>+From  line does not give back the converted message (the
//     mboxrd promise), or a line of the output still starts with "From ";
//   - the sender is not writable into a From_ line.
// No file system: everything stays in memory.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/lf_line_ends.h"
#include "store/mbox/from_line.h"
#include "store/mbox/mboxrd_quoter.h"

namespace {

using poplar::store::CrlfToLf;
using poplar::store::mbox::MboxrdQuoter;

struct Output {
  std::string converted;
  std::string quoted;
};

Output run(std::string_view message, size_t piece) {
  CrlfToLf converter;
  MboxrdQuoter quoter;
  Output out;
  std::string scratch;
  for (size_t i = 0; i < message.size(); i += piece) {
    scratch.clear();
    converter.convert(message.substr(i, piece), &scratch);
    out.converted += scratch;
    quoter.quote(scratch, &out.quoted);
  }
  scratch.clear();
  converter.finish(&scratch);
  out.converted += scratch;
  quoter.quote(scratch, &out.quoted);
  quoter.finish(&out.quoted);
  return out;
}

// What an mboxrd reader does: one '>' less on every line matching ^>+From .
std::string unquote(std::string_view quoted) {
  std::string out;
  size_t pos = 0;
  while (pos < quoted.size()) {
    size_t end = quoted.find('\n', pos);
    size_t stop = end == std::string_view::npos ? quoted.size() : end + 1;
    std::string_view line = quoted.substr(pos, stop - pos);
    if (line.starts_with("From ")) {
      std::abort();  // an unquoted From_ look-alike inside a message
    }
    size_t gt = line.find_first_not_of('>');
    if (gt != 0 && gt != std::string_view::npos && line.substr(gt).starts_with("From ")) {
      line.remove_prefix(1);
    }
    out += line;
    pos = stop;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t piece = static_cast<size_t>(data[0] % 64) + 1;
  std::string_view message(reinterpret_cast<const char*>(data + 1), size - 1);

  Output whole = run(message, message.size() + 1);
  Output cut = run(message, piece);
  if (whole.converted != cut.converted || whole.quoted != cut.quoted) {
    std::abort();
  }
  if (whole.converted.size() > message.size() || unquote(whole.quoted) != whole.converted) {
    std::abort();
  }
  std::string sender = poplar::store::mbox::sender_from_header(whole.converted);
  if (!poplar::store::mbox::is_writable_sender(sender)) {
    std::abort();
  }
  std::string line = poplar::store::mbox::from_line(sender, 1795780800);
  if (line.find('\n') != line.size() - 1) {
    std::abort();
  }
  return 0;
}
