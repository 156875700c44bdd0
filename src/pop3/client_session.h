// ClientSession: the client side of one POP3 conversation (`poplar fetch`) as a sans-I/O state
// machine, the mirror of ServerSession. The driver (fetch/, with sockets and TLS) owns the
// connection and the fetch policy; the session owns the protocol: greeting, CAPA, STLS,
// authentication, the listing (STAT, UIDL, LIST), then RETR/DELE/QUIT as the driver asks.
// POP4 folders (the Poplar POP4 profile, docs/pop4.md): SFLD before the listing, LFLD instead
// of it, and MOVE beside DELE (ClientSessionConfig's folder, list_folders and move_to).
//
// The driver's loop:
//   ClientSession session(config, events, random);
//   for (;;) switch (session.next_action()) {
//     case kWrite:    write pending_output(); consume_output(n);                     break;
//     case kRead:     read bytes; receive(bytes) (or on_eof());                       break;
//     case kStartTls: drop nothing (the session already refused any plaintext behind the
//                     STLS reply), run the handshake, on_tls_started(bindings)
//                     (or on_eof() when it fails);                                     break;
//     case kIdle:     logged in and listed, nothing outstanding: retrieve()/remove()/finish();
//                     break;
//     case kClose:    close the connection; failure() or quit_ok() says how it ended;  return;
//   }
// Why two styles: what the session asks of the outside world (write, read, TLS) is pulled
// through next_action() like ServerSession, so the driver has one loop; what it learns (the
// listing, message data, deletions, failures) is pushed through ClientEvents while receive()
// runs, because message data is streamed straight from the input buffer (never collected: a
// message may be larger than memory) and the driver delivers it as it arrives.
//
// Commands queued by the driver (retrieve, remove, finish) are written as soon as the window
// allows: with PIPELINING (advertised after login, and allow_pipelining) up to
// `pipelining_window` outstanding commands, otherwise one at a time. Responses are matched to
// commands in order. A message retrieved while more commands are outstanding is reported
// complete (on_message_end) only once the next response has started with a valid status line:
// a server that writes the next response before the message's terminator (wildduck#950) then
// fails the session before the corrupt message is delivered.
//
// Server bytes are untrusted: anything malformed ends the session with a kProtocol failure;
// nothing the server sends can make it crash, assert, or hold more than a line (plus the
// listing, which grows with the number of messages). Server text passed to events is raw:
// show it to people only through sanitize_server_text().
//
// Never logs or exposes the password: it lives in a Secret, is handed to one SASL mechanism
// (or one PASS/APOP line, wiped from the output buffer once written) and is wiped after login.
//
// Thread-safety: not thread-safe; one session per connection, used from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/secret.h"
#include "pop3/client_session_folders.h"
#include "sasl/mechanism.h"

namespace poplar::pop3 {

// How to authenticate (RFC 2384 §3 ";AUTH=").
enum class AuthChoice {
  kAny,       // ";AUTH=*" or none: the strongest SASL mechanism both sides have, else USER/PASS
  kApop,      // ";AUTH=+APOP": APOP only (needs a timestamp in the greeting)
  kSasl,      // ";AUTH=<mech>": exactly ClientSessionConfig::sasl_mechanism
  kUserPass,  // USER/PASS only
};

enum class TlsRequirement {
  kImplicit,  // TLS is up before the greeting (pops://, port 995)
  kStartTls,  // STLS is required before any credential; never falls back to plaintext
  kNone,      // plaintext connection, explicitly allowed (--insecure-plaintext)
};

struct ClientSessionConfig {
  std::string user;
  Secret password;
  AuthChoice auth = AuthChoice::kAny;
  std::string sasl_mechanism;  // for AuthChoice::kSasl (case-insensitive)
  TlsRequirement tls = TlsRequirement::kStartTls;
  // PASS, PLAIN and LOGIN send the password itself: without TLS only when this is true.
  bool allow_plaintext_password = false;
  // Commands outstanding at most when the server offers PIPELINING (PR-C-11).
  size_t pipelining_window = 16;
  // False: one command at a time even when the server offers PIPELINING. The driver's fall-back
  // after a session that failed_while_pipelining() (servers that mis-order or merge responses
  // to pipelined commands, wildduck#950).
  bool allow_pipelining = true;
  // Longest status or listing line accepted (message data has no limit, PR-C-7).
  size_t max_line_octets = 8192;
  // PR-C-6: a "." line ended by a bare LF ends a body only in lenient mode; otherwise it is a
  // data line ".". Bare LF line ends are always accepted and passed on as CRLF. A server whose
  // greeting ends in a bare LF turns lenient mode on: it ends all its lines that way.
  bool lenient_dot_lf = false;

  // POP4 folders. Each needs "X-POP4 ... FOLDERS" in the CAPA after login; without it the
  // session sends QUIT at once (nothing that changes the server was sent) and then fails with
  // kConfig and ClientFailure::needs = "FOLDERS". Names must pass check_folder_name().
  // The folder to fetch from: SFLD before STAT, and the listing is that folder's. Empty or
  // INBOX (any case): no SFLD, and no POP4 needed.
  std::string folder;
  // Where move() sends messages (MOVE n folder).
  std::string move_to;
  // LFLD instead of the listing: on_folders(), then kIdle (the driver calls finish()).
  bool list_folders = false;
};

enum class ClientAction {
  kRead,      // waiting for the server
  kWrite,     // pending_output() is not empty: write it
  kStartTls,  // STLS accepted: run the TLS handshake, then on_tls_started()
  kIdle,      // listed, nothing outstanding or queued: the driver queues the next command
  kClose,     // finished (QUIT answered) or failed: close the connection
};

enum class FailureKind {
  kTemporary,  // network, [IN-USE], [LOGIN-DELAY], [SYS/TEMP]: retry later
  kAuth,       // bad credentials ([AUTH] or a plain -ERR to PASS/APOP/AUTH)
  kPermanent,  // [SYS/PERM]: the account is broken; do not retry automatically
  kProtocol,   // the server broke the protocol (or failed SCRAM's mutual authentication)
  kConfig,     // what was asked cannot be done here (TLS required but no STLS, no mechanism)
};

std::string_view failure_kind_name(FailureKind kind);

struct ClientFailure {
  FailureKind kind = FailureKind::kProtocol;
  // What went wrong, for people. Server text inside it is already sanitised.
  std::string reason;
  // The response code of the server's -ERR ("IN-USE", "SYS/TEMP"), if any; raw.
  std::string response_code;
  // The POP4 ability ("FOLDERS") the server lacks, when that is why the session ended; the
  // driver names the options that needed it.
  std::string needs;
};

// A server's status line, copied (raw server text: sanitise before showing it).
struct ServerReply {
  bool ok = false;
  std::string code;
  std::string text;
};

struct ListedMessage {
  uint32_t number = 0;
  uint64_t octets = 0;  // LIST's size: for progress and size limits only, never framing
  std::string uidl;     // empty when the server has no UIDL
};

// Events, called from inside receive() / on_eof(). A handler may call retrieve(), remove() and
// finish() from inside any event; it must not call receive(), on_eof() or destroy the session.
class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  // Authenticated; `method` is "USER", "APOP" or the SASL mechanism's name.
  virtual void on_logged_in(std::string_view method) {}
  // STAT, UIDL and LIST are done. uidl_supported() says whether the uidls are filled.
  virtual void on_listing(std::span<const ListedMessage> messages) {}
  virtual void on_message_begin(uint32_t number) {}
  // The next piece of the un-stuffed message, line ends as CRLF. Valid during the call only.
  virtual void on_message_data(uint32_t number, std::string_view data) {}
  // The terminating "." arrived (and, when more commands were outstanding, the next response
  // started well); octets: the payload's size (compare with the LIST size).
  virtual void on_message_end(uint32_t number, uint64_t octets) {}
  // RETR got -ERR; the session goes on with the next command.
  virtual void on_message_error(uint32_t number, const ServerReply& reply) {}
  // DELE's answer: ok means marked deleted, not yet removed (that needs QUIT's +OK).
  virtual void on_deleted(uint32_t number, const ServerReply& reply) {}
  // MOVE's answer: ok means copied into move_to and marked deleted here (removed at QUIT's
  // +OK, like DELE; POP4.md "When changes take effect").
  virtual void on_moved(uint32_t number, const ServerReply& reply) {}
  // LFLD's answer (list_folders), in the server's order.
  virtual void on_folders(std::span<const FolderListing> folders) {}
  // QUIT's answer: +OK means the server committed the deletions (PR-C-2, RFC 1939 §6). A -ERR
  // after any DELE got +OK is then also a failure (kTemporary, or kPermanent for [SYS/PERM]).
  virtual void on_quit(const ServerReply& reply) {}
  // The session failed; next_action() returns kClose from now on.
  virtual void on_failed(const ClientFailure& failure) {}
};

class ClientSession {
 public:
  // events and random must outlive the session.
  ClientSession(ClientSessionConfig config, ClientEvents& events, Random& random);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Server bytes, any split.
  void receive(std::string_view bytes);
  // The server closed the connection (or the driver's read failed or timed out). Anything
  // outstanding fails (kTemporary); a message in progress is never reported complete.
  void on_eof();
  // TLS is up: after kStartTls, or (kImplicit) before the first receive() to pass the
  // channel bindings for SCRAM-*-PLUS. Capabilities learned before are forgotten.
  void on_tls_started(sasl::ChannelBindings bindings);

  ClientAction next_action();
  // Valid until the next non-const call.
  std::string_view pending_output() const;
  void consume_output(size_t n);

  // Commands after the listing (on_listing or later). Each is written when the window allows.
  void retrieve(uint32_t number);
  void remove(uint32_t number);
  // MOVE number move_to (ignored when the config has no move_to).
  void move(uint32_t number);
  // QUIT, after every command queued before it.
  void finish();

  bool logged_in() const;
  bool finished() const;  // QUIT answered, or failed
  bool failed() const;
  const ClientFailure& failure() const;
  // True once QUIT got +OK: the server removed the messages marked deleted.
  bool quit_ok() const;

  // What CAPA said last (tags upper case); empty when the server has no CAPA.
  bool has_capability(std::string_view tag) const;
  // True when CAPA's X-POP4 line lists this ability ("FOLDERS", "FLAGS", "PARTS").
  bool offers_pop4(std::string_view ability) const;
  // True when commands are pipelined: the server offers PIPELINING and the config allows it.
  bool pipelining() const;
  // True when the session failed while more than one command was outstanding (or a message
  // waited for the next response to confirm it). With a kProtocol failure this suggests a
  // server that mis-orders pipelined responses: the driver may reconnect once with
  // allow_pipelining = false (PR-C-11).
  bool failed_while_pipelining() const;
  // RFC 2449 §6.7 EXPIRE from the last CAPA (after login: the user's own value; if that CAPA
  // failed, the smallest value for any user announced before login). nullopt for NEVER, when
  // absent, or unparseable; 0 means the server may delete every retrieved message at QUIT.
  // For the driver's R2449-6.7-d warnings (--keep-days >= EXPIRE, --keep with EXPIRE 0).
  std::optional<uint32_t> expire_days() const;
  // False when UIDL got -ERR: a keep policy cannot work (the driver's call, PR-C-15).
  bool uidl_supported() const;
  // CAPA's LOGIN-DELAY seconds (0 when not announced), for backing off after [LOGIN-DELAY].
  uint32_t login_delay_seconds() const;
  // The APOP timestamp from the greeting, brackets included, or empty.
  std::string_view apop_timestamp() const;
  std::span<const ListedMessage> messages() const;
  // Commands written whose responses are not complete (for tests of the window).
  size_t outstanding() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Server text made safe for a terminal or a log: control octets, DEL, octets >= 0x80 and "\"
// become \xHH escapes ("\\" for a backslash); cut at max_octets with "...".
std::string sanitize_server_text(std::string_view text, size_t max_octets = 512);

// The failure kind for a -ERR to an authentication command (PASS, APOP, AUTH; USER), from its
// response code (RFC 2449 §8, RFC 3206): IN-USE, LOGIN-DELAY, SYS/TEMP → kTemporary; SYS/PERM →
// kPermanent; AUTH, none or unknown → kAuth. Case-insensitive; lower levels are ignored.
FailureKind classify_login_error(std::string_view response_code);

}  // namespace poplar::pop3
