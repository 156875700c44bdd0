// Test helper: builds a Maildir on disk with chosen messages, named the way real MDAs name
// them, so store, pop3 and server tests can start from a realistic maildrop in one line:
//   testing::TempDir dir;
//   testing::MaildirBuilder maildir(dir.path() / "Maildir");
//   maildir.add("Subject: one\n\nbody\n");                        // new/<generated name>
//   maildir.add({.bytes = "x\n", .in_cur = true, .flags = "S"});   // cur/<name>:2,S
//
// Must never: be linked into production code; depend on wall-clock time or the real pid (names
// are deterministic, so test expectations can name files).
//
// Thread-safety: one builder is used by one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace poplar::testing {

// Maildir names "<time>.M<usec>P<pid>Q<n>.<host>" (the qmail/Dovecot unique part), with a fake
// clock: each name is `step_s` seconds after the previous one, so names sort in creation order.
class MaildirNameGenerator {
 public:
  explicit MaildirNameGenerator(int64_t start_unix_s = 1700000000, int64_t step_s = 1,
                                std::string host = "mail.example.org")
      : time_(start_unix_s), step_s_(step_s), host_(std::move(host)) {}

  std::string next();

 private:
  int64_t time_;
  int64_t step_s_;
  std::string host_;
  uint64_t counter_ = 0;
};

class MaildirBuilder {
 public:
  struct Message {
    std::string bytes{};
    bool in_cur = false;  // cur/<base>:2,<flags> (read by some client) instead of new/<base>
    std::string flags{};  // Maildir flags for cur/, e.g. "S" or "RS"
    // Dovecot-style size fields in the base name: ",S=<stored octets>,W=<CRLF octets>".
    bool size_fields = false;
    std::string base_name{};  // empty: the next generated name
  };

  // Creates the Maildir with cur/, new/ and tmp/ when missing. Aborts on I/O errors: a test
  // cannot proceed without its fixture.
  explicit MaildirBuilder(std::filesystem::path maildir);

  const std::filesystem::path& path() const { return path_; }
  MaildirNameGenerator& names() { return names_; }

  // Delivers like an MDA (write to tmp/, then rename into place). Returns the file's path
  // relative to the Maildir, e.g. "new/1700000001.M1P4242Q1.mail.example.org".
  std::string add(const Message& message);
  std::string add(std::string_view bytes) { return add(Message{.bytes = std::string(bytes)}); }

  // Moves a message the way an IMAP client marks it seen: new/<name> → cur/<base>:2,<flags>
  // (or cur/ with other flags). Returns the new relative path.
  std::string set_flags(const std::string& relative_path, std::string_view flags);

  // Every file in new/ and cur/ (relative paths, sorted), dot-files included.
  std::vector<std::string> files() const;

  // Sets the mtime of new/ and cur/ `seconds` into the past (their ctime becomes now: no call
  // can set it back). Together with a store clock running ahead, it makes the directories look
  // long settled, and any later change to them stamps a different mtime whatever the clock's
  // granularity, so tests of "changed after the index was written" are deterministic.
  void backdate_directories(int64_t seconds);

 private:
  std::filesystem::path path_;
  MaildirNameGenerator names_;
};

}  // namespace poplar::testing
