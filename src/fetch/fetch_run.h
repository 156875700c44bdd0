// FetchRun: one account's fetch from start to end: lock and load its state, connect (TLS as the
// URL says), log in, list, retrieve what is new into the target, record each message once its
// delivery is durable, delete what the policy says only after that, QUIT, and forget the UIDLs
// the server no longer has only after QUIT's +OK (SPEC PR-C-2). It wires fetch/ServerStream,
// pop3::ClientSession, fetch/FetchState and a store::MessageWriter per message.
//
// The order that makes a crash anywhere safe (at worst a duplicate, never a loss):
//   deliver (writer commit: fsync) -> record the UIDL (append + fsync) -> DELE -> QUIT.
// A message whose delivery fails is neither recorded nor deleted; it is fetched again next
// time. A delivery whose record cannot be written is taken back out of the target where that
// is safe (fetch/delivery_undo.h), so that the next run does not deliver it twice; when even
// that fails, a warning says it will come again.
// With POP4 folders (docs/pop4.md) the run fetches from `folder` (SFLD), and MOVEs to
// `move_to` what the policy would delete: MOVE marks like DELE (the removal happens at QUIT), so
// the order above stays. With `list_folders` it only lists the folders (LFLD) and QUITs.
//
// Thread-safety: one FetchRun per thread (each account has its own).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/secret.h"
#include "base/sysexits.h"
#include "fetch/pop_url.h"
#include "fetch/server_stream.h"
#include "pop3/client_session.h"
#include "store/fs/file_system.h"
#include "store/message_writer.h"

namespace poplar::fetch {

// Where messages go: "maildir:DIR", "mbox:FILE" or "mda:COMMAND".
struct Target {
  enum class Kind { kMaildir, kMbox, kMda };
  Kind kind = Kind::kMaildir;
  std::string where;  // the directory, the file or the command
};
// Errors: kInvalidInput naming the accepted forms.
Result<Target> parse_target(std::string_view text);

struct FetchPolicy {
  enum class Keep { kKeep, kDelete, kKeepDays };
  Keep keep = Keep::kKeep;
  uint32_t keep_days = 0;              // kKeepDays: delete what was first seen this long ago
  std::optional<uint64_t> max_octets;  // skip bigger messages (by LIST size)
  std::optional<uint32_t> limit;       // fetch at most this many new messages per run
};

// A server to connect to, when it is not the URL's own host (SRV discovery, RFC 6186).
struct Endpoint {
  std::string host;
  uint16_t port = kPopsPort;
  PopUrl::TlsMode tls = PopUrl::TlsMode::kImplicit;
};

struct FetchAccount {
  // The account: its canonical form keys the state file, and its host is the name the server
  // certificate must carry.
  PopUrl url;
  // Where to connect, tried in order until one answers; empty: the URL's host and port. With
  // SRV discovery the certificate is still checked against url.host, the source domain, never
  // the SRV target (RFC 6186 §4, RFC 7817 §3: the DNS answer is not authenticated).
  std::vector<Endpoint> endpoints;
  Secret password;
  Target target;
  FetchPolicy policy;
  std::string ca_file;              // empty: the system trust store
  std::string fingerprint_sha256;   // 32 octets: pin the certificate instead of checking a chain
  bool insecure_plaintext = false;  // allow pop:// without STLS, and passwords in the clear
  std::string state_path;           // empty: fetch/state_path.h's default
  StreamTimeouts timeouts;
  // POP4 folders; each needs the server's X-POP4 FOLDERS. Names pass pop3::check_folder_name.
  std::string folder;         // fetch from this folder (SFLD); empty or INBOX: the inbox
  std::string move_to;        // MOVE here instead of DELE (what the policy would delete)
  bool list_folders = false;  // only list the folders (summary.folders); no state, no target
  // Every file operation of the run (the state file, the Maildir or mbox target, undoing a
  // delivery) goes through this; nullptr: store::fs::posix_file_system(). Tests pass a
  // FaultInjectionFileSystem. It must outlive the run. An mda: target's command is not covered.
  store::fs::FileSystem* file_system = nullptr;
};

struct FetchSummary {
  uint32_t listed = 0;
  uint32_t fetched = 0;
  uint64_t fetched_octets = 0;
  uint32_t deleted = 0;     // confirmed by QUIT's +OK
  uint32_t moved = 0;       // to move_to, confirmed by QUIT's +OK
  uint32_t skipped = 0;     // over max_octets, or beyond the limit
  uint32_t errors = 0;      // messages that failed (RETR -ERR or delivery)
  std::string first_error;  // for the summary line
  // Things the user should know that did not stop the run (R2449-6.7-d: a keep policy the
  // server's EXPIRE defeats; PR-C-11: a fall-back to lock-step), one sentence each.
  std::vector<std::string> warnings;
  // list_folders: LFLD's answer.
  std::vector<pop3::FolderListing> folders;
  // How the run ended: OK, or why it stopped.
  Status status;
  // sysexits(3): 0; EX_TEMPFAIL 75 (network, [IN-USE], [LOGIN-DELAY], [SYS/TEMP], temporary
  // delivery failures, another fetch of the account running); EX_NOPERM 77 (bad credentials);
  // EX_CONFIG 78 (the account cannot work as configured: no TLS or mechanism, keep without
  // UIDL, POP4 folders the server does not offer or a folder it does not have, a bad target);
  // EX_PROTOCOL 76 (the server broke the protocol, or its certificate failed); EX_UNAVAILABLE 69
  // ([SYS/PERM]); EX_IOERR 74 (local delivery or state failures that are not temporary). A run
  // whose messages partly failed ends 75 (they are retried).
  int exit_code = 0;
};

// The POP4 folder options of an account, checked before connecting: each name passes
// pop3::check_folder_name; move_to is not the folder being fetched (INBOX when folder is empty;
// a message moved onto itself would be copied and then removed); move_to needs a policy that
// removes something (--delete or --keep-days: with --keep nothing would ever be moved).
// Errors: kInvalidInput naming the option.
Status check_folder_options(const FetchAccount& account);

// Progress while messages arrive: (messages done, messages to fetch, octets done).
using ProgressFn = std::function<void(uint32_t, uint32_t, uint64_t)>;

// Runs the account. `now_unix` is the clock for first-seen times and --keep-days (injected by
// tests). Never throws; every failure is in the summary's status.
FetchSummary run_fetch(const FetchAccount& account, int64_t now_unix,
                       const ProgressFn& progress = nullptr);

inline constexpr int kExOk = sysexits::kOk;
inline constexpr int kExUnavailable = sysexits::kUnavailable;
inline constexpr int kExIoErr = sysexits::kIoErr;
inline constexpr int kExTempFail = sysexits::kTempFail;
inline constexpr int kExProtocol = sysexits::kProtocol;
inline constexpr int kExNoPerm = sysexits::kNoPerm;
inline constexpr int kExConfig = sysexits::kConfig;

}  // namespace poplar::fetch
