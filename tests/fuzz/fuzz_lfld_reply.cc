// Fuzzes the client's reading of a POP4 LFLD answer (pop3/client_session_folders.h and the
// LFLD step of pop3/client_session.h) with arbitrary server bytes. Input: byte 0 = the feed
// size (1-256); the rest is the server's answer to LFLD (status line, folder lines, "."),
// split into lines at LF for the line parser, and fed whole, in pieces of that size, to a
// ClientSession with list_folders that has just logged in to a server offering X-POP4 FOLDERS.
// Checks: no crash or sanitizer report; a line that parses has a non-empty name without
// control characters, and the name written as a command argument (folder_argument) with the
// counts parses back to the same listing; the session reports folders at most once, never
// after failing, and ends in kClose after EOF.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pop3/client_session.h"
#include "pop3/client_session_folders.h"
#include "testing/fake_random.h"

namespace {

using poplar::pop3::ClientAction;
using poplar::pop3::ClientEvents;
using poplar::pop3::ClientFailure;
using poplar::pop3::ClientSession;
using poplar::pop3::ClientSessionConfig;
using poplar::pop3::FolderListing;
using poplar::pop3::TlsRequirement;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_lfld_reply: %s\n", what);
  std::abort();
}

void check_line(std::string_view line) {
  poplar::Result<FolderListing> parsed = poplar::pop3::parse_folder_listing(line);
  if (!parsed.is_ok()) {
    if (parsed.status().message().empty()) {
      fail("an error without a message");
    }
    return;
  }
  const FolderListing& folder = parsed.value();
  if (folder.name.empty()) {
    fail("an empty folder name was accepted");
  }
  for (char c : folder.name) {
    const auto octet = static_cast<unsigned char>(c);
    if (octet < 0x20 || octet == 0x7f) {
      fail("a control character in an accepted folder name");
    }
  }
  const std::string again = poplar::pop3::folder_argument(folder.name) + " " +
                            std::to_string(folder.messages) + " " + std::to_string(folder.octets);
  poplar::Result<FolderListing> back = poplar::pop3::parse_folder_listing(again);
  if (!back.is_ok() || !(back.value() == folder)) {
    fail("a folder written as an argument does not parse back to itself");
  }
}

class Driver final : public ClientEvents {
 public:
  ClientSession* session = nullptr;
  void on_folders(std::span<const FolderListing> folders) override {
    if (failed_ || listed_) {
      fail("folders reported after a failure, or twice");
    }
    listed_ = true;
    for (const FolderListing& f : folders) {
      if (f.name.empty()) {
        fail("a listed folder without a name");
      }
    }
    session->finish();
  }
  void on_failed(const ClientFailure& failure) override {
    if (failure.reason.empty()) {
      fail("a failure without a reason");
    }
    failed_ = true;
  }

 private:
  bool listed_ = false;
  bool failed_ = false;
};

void drain(ClientSession& session) {
  for (int steps = 0; steps < 10000; ++steps) {
    if (session.next_action() != ClientAction::kWrite) {
      return;
    }
    session.consume_output(session.pending_output().size());
  }
  fail("the session keeps asking to write");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  const size_t feed = static_cast<size_t>(data[0]) + 1;
  const std::string_view reply(reinterpret_cast<const char*>(data + 1), size - 1);

  for (size_t start = 0; start <= reply.size();) {
    size_t end = reply.find('\n', start);
    if (end == std::string_view::npos) {
      end = reply.size();
    }
    std::string_view line = reply.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    check_line(line);
    start = end + 1;
  }

  ClientSessionConfig config;
  config.user = "alice";
  config.password = poplar::Secret("secret");
  config.tls = TlsRequirement::kNone;
  config.allow_plaintext_password = true;
  config.list_folders = true;
  poplar::testing::FakeRandom random;
  Driver driver;
  ClientSession session(std::move(config), driver, random);
  driver.session = &session;
  // Greeting, CAPA, USER, PASS, the CAPA after login: then LFLD is outstanding.
  for (std::string_view step : {"+OK ready\r\n", "+OK\r\nUSER\r\n.\r\n", "+OK\r\n", "+OK\r\n",
                                "+OK\r\nX-POP4 FOLDERS\r\n.\r\n"}) {
    session.receive(step);
    drain(session);
  }
  if (session.failed() || session.pending_output().size() != 0) {
    fail("the scripted login did not reach LFLD");
  }
  for (size_t i = 0; i < reply.size(); i += feed) {
    session.receive(reply.substr(i, feed));
    drain(session);
  }
  session.on_eof();
  drain(session);
  if (session.next_action() != ClientAction::kClose) {
    fail("the session does not close after EOF");
  }
  return 0;
}
