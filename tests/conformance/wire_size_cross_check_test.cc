// Cross-check of the two halves of RFC 1939 §11: the size a store announces (LIST, STAT) must
// equal the octets the pop3 dot-stuffer sends for the message (RETR), after un-stuffing. The
// store side is store/crlf_size via a real Maildir; the wire side is pop3::DotStuffer; a third,
// naive un-stuffer here checks the wire bytes themselves.
// Must never: rely on either implementation to check the other alone. Single-threaded.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "pop3/dot_stuffer.h"
#include "store/crlf_size.h"
#include "store/maildir/maildir_store.h"
#include "testing/maildir_builder.h"
#include "testing/temp_dir.h"

namespace poplar::conformance {
namespace {

// The wire form of a stored message, through the real dot-stuffer, fed in `chunk`-sized pieces.
std::string stuff(std::string_view stored, size_t chunk, uint64_t* payload) {
  pop3::DotStuffer stuffer;
  std::string out;
  for (size_t i = 0; i < stored.size(); i += chunk) {
    stuffer.feed(stored.substr(i, chunk), out);
  }
  stuffer.finish(out);
  *payload = stuffer.payload_octets();
  return out;
}

// What a client keeps: drop the terminating ".\r\n" and one leading dot of every line.
std::string unstuff(std::string_view wire) {
  EXPECT_TRUE(wire.ends_with(".\r\n"));
  wire.remove_suffix(3);
  std::string out;
  bool line_start = true;
  for (char c : wire) {
    if (line_start && c == '.') {
      line_start = false;
      continue;
    }
    out += c;
    line_start = c == '\n';
  }
  return out;
}

// Messages built from the octets that matter to the rule: LF, CR, '.', and a letter.
std::vector<std::string> tricky_messages() {
  std::vector<std::string> out = {"",  "\n",  "\r",    "\r\n",   ".",     ".\n",    "..\r\n",
                                  "a", "a\r", "\n.\n", "\r\r\n", "a\n\r", ".\r.\n", "x\r\n."};
  std::mt19937 random(1939);  // fixed seed: the same messages in every run
  const char alphabet[] = {'\n', '\r', '.', 'a'};
  for (int n = 0; n < 400; ++n) {
    std::string m(random() % 24, 'a');
    for (char& c : m) {
      c = alphabet[random() % 4];
    }
    out.push_back(m);
  }
  return out;
}

TEST(WireSizeCrossCheckTest, StoreSizeEqualsWhatTheDotStufferSends) {
  for (const std::string& m : tricky_messages()) {
    for (size_t chunk : {size_t{1}, size_t{3}, size_t{1000}}) {
      uint64_t payload = 0;
      std::string wire = stuff(m, chunk, &payload);
      std::string kept = unstuff(wire);
      SCOPED_TRACE(::testing::PrintToString(m));
      EXPECT_EQ(store::crlf_size_octets(m), payload);
      EXPECT_EQ(store::crlf_size_octets(m), kept.size());
      if (!m.empty()) {
        EXPECT_TRUE(kept.ends_with("\r\n"));
      }
    }
  }
}

TEST(WireSizeCrossCheckTest, MaildirListSizesEqualRetrOctets) {
  testing::TempDir dir;
  testing::MaildirBuilder builder(dir.path() / "Maildir");
  std::vector<std::string> messages = tricky_messages();
  for (const std::string& m : messages) {
    builder.add(m);
  }
  store::maildir::MaildirStore store(store::fs::posix_file_system());
  for (int login = 0; login < 2; ++login) {  // computed, then from the index
    Result<store::MaildropPtr> drop = store.open_maildrop(builder.path().string());
    ASSERT_TRUE(drop.is_ok());
    ASSERT_EQ((*drop)->messages().size(), messages.size());
    for (size_t i = 0; i < messages.size(); ++i) {
      Result<store::MessageReaderPtr> reader = (*drop)->open_message(i);
      ASSERT_TRUE(reader.is_ok());
      pop3::DotStuffer stuffer;
      std::string wire;
      char buffer[7];
      for (;;) {
        Result<size_t> n = (*reader)->read(buffer);
        ASSERT_TRUE(n.is_ok());
        if (*n == 0) {
          break;
        }
        stuffer.feed(std::string_view(buffer, *n), wire);
      }
      stuffer.finish(wire);
      EXPECT_EQ((*drop)->messages()[i].size_octets, unstuff(wire).size()) << i;
    }
  }
}

}  // namespace
}  // namespace poplar::conformance
