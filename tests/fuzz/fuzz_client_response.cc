// Fuzzes the client-side POP3 reply parser (pop3/client_response.h) with arbitrary server
// bytes, as `poplar bench` and `poplar fetch` meet them from untrusted servers.
// Input: byte 0 = how many responses are expected (1-8, low 3 bits + 1) and whether the
// leftover bytes count as an error (0x08); bytes 1-2 = the shape of each (2 bits each:
// status-only, lines, payload, count); byte 3 = the feed size (1-256); the rest is the server's
// output, fed in pieces of that size. The parser must never crash or consume more than it was
// given, and the payload pieces it reports for a body must add up to the octets its
// on_body_end() announces.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "pop3/client_response.h"

namespace {

using poplar::pop3::ClientResponseParser;
using poplar::pop3::ResponseHandler;
using poplar::pop3::ResponseShape;
using poplar::pop3::StatusLine;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_client_response: %s\n", what);
  std::abort();
}

class CheckingHandler final : public ResponseHandler {
 public:
  void on_status(const StatusLine& status, uint32_t) override {
    payload_ = 0;
    if (status.line.size() > ClientResponseParser::kDefaultMaxLineOctets) {
      fail("status line longer than the limit");
    }
  }
  void on_line(std::string_view line, uint32_t) override {
    if (line.size() > ClientResponseParser::kDefaultMaxLineOctets) {
      fail("body line longer than the limit");
    }
  }
  void on_payload(std::string_view data, uint32_t) override { payload_ += data.size(); }
  void on_body_end(uint64_t payload_octets, uint32_t tag) override {
    if (tag == kPayloadTag && payload_octets != payload_) {
      fail("payload pieces do not add up to the announced octets");
    }
    payload_ = 0;
  }

  static constexpr uint32_t kPayloadTag = 2;

 private:
  uint64_t payload_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 4) {
    return 0;
  }
  const size_t expected = (bytes[0] & 7) + 1;
  const bool strict = (bytes[0] & 8) != 0;
  const unsigned shapes = bytes[1] | (unsigned{bytes[2]} << 8);
  const size_t piece = size_t{bytes[3]} + 1;
  ClientResponseParser parser;
  for (size_t i = 0; i < expected; ++i) {
    auto shape = static_cast<ResponseShape>((shapes >> (2 * i)) & 3);
    parser.expect(shape, static_cast<uint32_t>(shape));  // the tag names the shape
  }
  CheckingHandler handler;
  std::string_view input(reinterpret_cast<const char*>(bytes) + 4, size - 4);
  while (!input.empty() && !parser.failed()) {
    std::string_view chunk = input.substr(0, piece);
    size_t used = parser.feed(chunk, handler);
    if (used > chunk.size()) {
      fail("consumed more than it was given");
    }
    if (used < chunk.size()) {
      if (parser.pending() == 0 && strict) {
        parser.set_unexpected_data();
      }
      break;  // failed, or nothing more expected
    }
    input.remove_prefix(used);
  }
  (void)parser.error_text();
  parser.reset();
  return 0;
}
