// Golden-transcript replay for the POP3 server core (nginx-tests' named steps, in-process):
// a tests/transcripts/**/*.txt file is replayed against a ServerSession driven by FakeDriver
// (what net/ will do, minus sockets) over a FakeWorld (users, passwords, fake maildrops).
// Each file is replayed whole (each block of client lines as one chunk, received in reads of at
// most 64 KiB as net/ does) and trickled (client bytes fed one at a time, output drained one
// octet at a time); both must match the file and each other.
//
// File format (one item per line; blank lines and "#" comments ignored):
//   ! DIRECTIVE ...     set-up, before the first C:/S: line (see README in tests/transcripts)
//   C: text             client sends text + CRLF
//   C! text             client sends text with \r \n \t \0 \\ \xHH escapes, no implied CRLF
//   C* N text           client sends text repeated N times + CRLF
//   S: text             server must send text + CRLF
//   S! text             server must send these escaped octets
//   -- eof              client closes its side
//   -- closed REASON    the session has closed, for this CloseReason (close_reason_name)
//   -- open             the session has not closed
//   -- deleted USER N.. exactly one UPDATE for USER happened, removing these message numbers
//   -- deleted USER none no UPDATE happened for USER
//   -- log TEXT         some log line so far contains TEXT
//   -- no-log TEXT      no log line so far contains TEXT
//   -- folders / folder / flags / stored   POP4 store checks (README in tests/transcripts)
// With POP4 FOLDERS or FLAGS on (`! config pop4 folders`) or a folder directive, every user's
// maildrop is served from a store::memory State (real folders, flags, STOR and COPY with UIDLs
// "m<n>"), its INBOX filled from the FakeMaildropData at the start; the INBOX Maildrop still
// records UPDATEs and honours the fake's failure knobs.
// Consecutive C lines are sent as one chunk (so they are pipelined); the S lines after them
// must be exactly what the server writes in response, no more and no less.
//
// Test-only. Uses <filesystem>/<fstream> to read files, which pop3/ itself must never do.
// Thread-safety: none; installs a log sink for the duration of a replay.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_request.h"
#include "base/result.h"
#include "pop3/server_session.h"
#include "store/maildrop.h"
#include "store/message_flags.h"
#include "testing/fake_maildrop.h"

namespace poplar::store::memory {
struct State;  // store/memory/memory_state.h
}

namespace poplar::testing {

struct FakeUser {
  std::string password;                   // USER/PASS
  std::string apop_secret;                // APOP; empty = APOP always fails for this user
  std::string scram_salt;                 // SCRAM-*: salt for keys derived from `password`
  ErrorCode auth_error = ErrorCode::kOk;  // authentication reports this instead of checking
  ErrorCode open_error = ErrorCode::kOk;  // opening the maildrop fails with this
  std::shared_ptr<FakeMaildropData> maildrop = std::make_shared<FakeMaildropData>();
  // `! flags USER INBOX N ...`: flags of INBOX messages (by index) in the folder store.
  std::map<size_t, store::MessageFlags> inbox_flags;
};

// Users and their maildrops, plus the two driver actions that need them.
class FakeWorld {
 public:
  // alice/"secret" with three messages (CRLF; LF with dot lines; no final newline and a
  // bare CR), bob/"pw with spaces" with an empty maildrop, carol/"tanstaaf" (also her APOP
  // secret) with one message.
  static FakeWorld with_default_users();

  // USER/PASS (and PLAIN, LOGIN), APOP (RFC 1939's vector only), CRAM-MD5 against the
  // plaintext password, SCRAM lookups with keys derived from it (4096 iterations; made-up
  // keys and kAuthFailed for unknown users, as auth/ does).
  auth::AuthResult authenticate(const auth::AuthRequest& request) const;
  Result<store::MaildropPtr> open(const auth::UserRecord& user) const;

  // Copies every user's FakeMaildropData messages (and inbox_flags) into folder_state's
  // INBOXes; call once, after the set-up and before the first login. No-op without it.
  void fill_folder_state();

  std::map<std::string, FakeUser> users;
  // POP4 folders and flags: when set, open() serves maildrops from this memory store state.
  std::shared_ptr<store::memory::State> folder_state;
};

// Plays net/'s part: performs every action the session asks for, synchronously. kStartTls:
// writes the pending "+OK", then "completes" a handshake at once with fake_tls_info() (or, with
// fail_tls, aborts the session as a failed handshake does).
class FakeDriver {
 public:
  static pop3::TlsInfo fake_tls_info();

  // write_chunk: octets taken per kWrite (SIZE_MAX: all that is pending).
  FakeDriver(pop3::ServerSession& session, const FakeWorld& world,
             size_t write_chunk = static_cast<size_t>(-1));

  // Runs actions until the session wants input or closes; appends what it writes to `out`.
  // Returns false if the session never settled (a loop), which is a bug in the session.
  bool run(std::string& out);

  bool closed() const { return closed_; }
  // Largest pending_output() seen at a kWrite (the watermark tests use it).
  size_t max_pending_octets() const { return max_pending_; }
  int auth_actions() const { return auth_actions_; }
  int commit_actions() const { return commit_actions_; }
  // Handshakes done so far; the replay drops the rest of a client chunk after one, as net/
  // drops plaintext it had read behind STLS (RFC 2595 §4).
  int tls_handshakes() const { return tls_handshakes_; }
  void set_fail_tls(bool fail) { fail_tls_ = fail; }

 private:
  pop3::ServerSession& session_;
  const FakeWorld& world_;
  size_t write_chunk_;
  bool closed_ = false;
  size_t max_pending_ = 0;
  int auth_actions_ = 0;
  int commit_actions_ = 0;
  int tls_handshakes_ = 0;
  bool fail_tls_ = false;
};

enum class FeedMode { kWhole, kTrickle };

struct TranscriptOutcome {
  bool ok = true;
  std::string failure;  // "file:line: what differed"
  std::string output;   // every octet the server wrote, for the whole/trickle comparison
};

TranscriptOutcome run_transcript_text(std::string_view text, std::string_view name, FeedMode mode);
TranscriptOutcome run_transcript_file(const std::string& path, FeedMode mode);

// Every *.txt under dir, recursively, sorted; paths relative to dir.
std::vector<std::string> list_transcripts(const std::string& dir);

// "\r\n" -> "\\r\\n" etc., for failure messages.
std::string escape_for_display(std::string_view bytes);

}  // namespace poplar::testing
