// SessionCore: the state behind ServerSession (server_session.h), shared by the files that
// implement it: server_session.cc (the action loop, buffers, input), server_handlers_auth.cc
// (AUTHORIZATION), server_handlers_trans.cc (TRANSACTION and UPDATE) and
// server_handlers_part.cc (POP4 PART). command_table.cc points at the handlers. Internal to
// pop3/; nothing outside includes this.
//
// Never does I/O: everything outside is an action the driver performs. Never logs a secret.
// Thread-safety: not thread-safe; one per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/auth_request.h"
#include "base/clock.h"
#include "base/line_splitter.h"
#include "base/random.h"
#include "base/result.h"
#include "base/status.h"
#include "pop3/capabilities.h"
#include "pop3/command.h"
#include "pop3/error_mapping.h"
#include "pop3/message_number.h"
#include "pop3/part_listing.h"
#include "pop3/pop4_arguments.h"
#include "pop3/reply_producer.h"
#include "pop3/response.h"
#include "pop3/server_session.h"
#include "pop3/session_config.h"
#include "sasl/mechanism.h"
#include "store/maildrop.h"

namespace poplar::pop3 {

// RFC 1939 §5's "no such message", for every command that names one.
inline constexpr std::string_view kNoSuchMessage = "No such message.";

// "1 message", "2 messages".
std::string plural(uint64_t n, std::string_view word);

class SessionCore {
 public:
  // Above this much unprocessed input, wants_input() asks a driver that reads while it writes
  // to stop reading (TCP flow control then throttles the client: RFC 2449 §6.6 clients must
  // not rely on unbounded server buffering).
  static constexpr size_t kInputPauseOctets = 64 * 1024;
  // Hard cap on unprocessed input. A driver that honours wants_input() (or reads only on
  // kRead) never gets near it; beyond it the peer is flooding and the session ends.
  static constexpr size_t kMaxBufferedInputOctets = 256 * 1024;
  // Idle sessions keep at most this much output capacity (DESIGN §7: a few KiB per idle
  // connection); bigger buffers from a long reply are released when it ends.
  static constexpr size_t kIdleOutputCapacityOctets = 1024;

  SessionCore(SessionConfig config, const Clock& clock, Random& random, std::string remote_ip);
  ~SessionCore();

  // ServerSession's interface, one to one.
  void start();
  void receive(std::string_view bytes);
  void on_eof();
  void abort(CloseReason reason);
  ActionKind next_action();
  std::string_view pending_output() const;
  void consume_output(size_t n);
  const auth::AuthRequest& auth_request() const;
  void on_auth_result(auth::AuthResult result);
  std::optional<std::string> take_unreported_auth_failure() {
    return std::exchange(unreported_auth_failure_, std::nullopt);
  }
  const auth::UserRecord& authenticated_user() const;
  void on_maildrop_opened(Result<store::MaildropPtr> maildrop);
  Status run_update();
  void on_update_committed(Status status);
  void on_tls_started(TlsInfo info);
  SessionState state() const { return state_; }
  CloseReason close_reason() const { return close_reason_; }
  bool wants_input() const;
  size_t buffer_footprint_octets() const;

  // Handlers, named in command_table.cc. AUTHORIZATION (server_handlers_auth.cc):
  void handle_user(const ParsedCommand& command);
  void handle_pass(const ParsedCommand& command);
  void handle_apop(const ParsedCommand& command);
  void handle_auth(const ParsedCommand& command);
  void handle_stls(const ParsedCommand& command);
  void handle_utf8(const ParsedCommand& command);
  void handle_lang(const ParsedCommand& command);
  void handle_quit_authorization(const ParsedCommand& command);
  void handle_capa(const ParsedCommand& command);
  // TRANSACTION (server_handlers_trans.cc):
  void handle_stat(const ParsedCommand& command);
  void handle_list(const ParsedCommand& command);
  void handle_uidl(const ParsedCommand& command);
  void handle_retr(const ParsedCommand& command);
  void handle_top(const ParsedCommand& command);
  void handle_dele(const ParsedCommand& command);
  void handle_noop(const ParsedCommand& command);
  void handle_rset(const ParsedCommand& command);
  void handle_last(const ParsedCommand& command);
  void handle_xtnd(const ParsedCommand& command);
  void handle_quit_transaction(const ParsedCommand& command);
  // POP4 (server_handlers_part.cc):
  void handle_part(const ParsedCommand& command);
  // POP4 FOLDERS (server_handlers_folders.cc):
  void handle_lfld(const ParsedCommand& command);
  void handle_sfld(const ParsedCommand& command);
  void handle_cfld(const ParsedCommand& command);
  void handle_dfld(const ParsedCommand& command);
  void handle_renf(const ParsedCommand& command);
  void handle_movf(const ParsedCommand& command);
  void handle_copy(const ParsedCommand& command);
  void handle_move(const ParsedCommand& command);
  void handle_stor(const ParsedCommand& command);
  // POP4 FLAGS (server_handlers_flags.cc):
  void handle_flgs(const ParsedCommand& command);
  void handle_flag(const ParsedCommand& command);

 private:
  // A folder the session has open: INBOX from login, and with POP4 FOLDERS the selected
  // folder and every folder left with marks (SFLD keeps them for UPDATE, POP4.md). Each holds
  // its maildrop's lock until the session ends.
  struct OpenFolder {
    std::string name;  // canonical wire name; "INBOX" for the login maildrop
    store::MaildropPtr maildrop;
    std::vector<bool> deleted;  // by MessageIndex; DELE and MOVE mark, RSET clears
    // FLAG: each changed message's whole flag set as it will be after UPDATE; RSET clears.
    std::map<size_t, store::MessageFlags> flag_changes;
    bool has_marks() const;
  };

  // The external action the session waits for; input is not processed meanwhile.
  // kTls: STLS was answered; nothing runs until on_tls_started() (RFC 2595 §4).
  enum class Waiting { kNothing, kAuth, kMaildrop, kCommit, kTls };
  // kList: LIST, UIDL and PART's listing (generated lines); kPart: a part's header or body.
  enum class StreamKind { kList, kRetr, kTop, kPart };

  // server_session.cc
  std::string& out();  // the output buffer, compacted, for appending
  void reply_ok(std::string_view text);
  void reply_err(std::string_view text, ResponseCode code = ResponseCode::kNone);
  // An unknown, invalid, wrong-state or refused command: -ERR, counted towards the limit.
  void reject_command(std::string_view text, ResponseCode code = ResponseCode::kNone);
  void process_line(std::string_view line);
  void dispatch(const ParsedCommand& command);
  void refill_output();
  void start_stream(StreamKind kind, ReplyProducerPtr producer);
  void close(CloseReason reason);
  void release_idle_memory();
  // Drops every open folder (releasing their locks without changing anything), INBOX last.
  void release_folders();
  std::string_view log_user() const;
  // The LineSplitter limit now: AUTH lines and SASL responses may be longer than commands
  // (RFC 2449 §4), so while SASL is possible (AUTHORIZATION, mechanisms configured) lines are
  // read up to max_auth_line_octets and process_line() refuses long non-AUTH lines itself.
  size_t line_limit() const;

  // server_handlers_auth.cc
  bool plaintext_allowed_now() const { return config_.plaintext_allowed || tls_active_; }
  bool stls_available_now() const;
  std::string_view plaintext_refusal() const;  // the -ERR text for USER/PASS/PLAIN/LOGIN
  CapaState capa_state() const;
  // The SASL mechanisms usable right now, in preference order (RFC 2449 §6.3).
  std::vector<std::string> usable_mechanisms() const;
  sasl::ChannelBindings channel_bindings() const;

  // The AUTH exchange (RFC 5034 §4), server_handlers_auth.cc.
  bool sasl_reading() const {
    return sasl_phase_ == SaslPhase::kResponse || sasl_phase_ == SaslPhase::kFinalAck ||
           sasl_phase_ == SaslPhase::kFailureAck;
  }
  void process_sasl_line(std::string_view line);
  void run_sasl_step(sasl::ServerStep step);
  void send_challenge(std::string_view data);
  void on_scram_lookup(auth::AuthResult result);
  void sasl_succeeded();
  void sasl_failed(std::string_view reason);
  void end_sasl();
  void start_authentication(auth::AuthRequest request, std::string_view method);
  void login_failed(const WireError& error);
  void enter_transaction();

  // server_handlers_trans.cc
  // The index of a message that exists and is not marked deleted (RFC 1939 §5).
  std::optional<MessageIndex> live_message(MessageNumber number) const;
  void open_message_stream(const ParsedCommand& command, StreamKind kind);
  // The message's reader; on failure the -ERR is queued (and logged) and nullptr returned.
  store::MessageReaderPtr open_reader(MessageNumber number, MessageIndex index);
  void recount();
  std::string maildrop_summary() const;  // "N messages (M octets)"
  store::Maildrop& drop() { return *selected_->maildrop; }
  const store::Maildrop& drop() const { return *selected_->maildrop; }
  std::vector<bool>& deleted() { return selected_->deleted; }
  const std::vector<bool>& deleted() const { return selected_->deleted; }
  // The flags a message of the selected folder will have after UPDATE (FLGS, COPY, MOVE).
  store::MessageFlags flags_after_update(MessageIndex index) const;
  // Resolves a POP4 message set against the selected folder (POP4.md "Common syntax"): the
  // indexes, ascending and without repeats, or an -ERR already queued (a number that does not
  // exist or is marked deleted fails the whole command) and nullopt.
  std::optional<std::vector<MessageIndex>> resolve_message_set(const MessageSet& set);
  // A store error in a POP4 folder, flag or STOR command: -ERR per error_mapping.h
  // (Operation::kFolder; the store's own message for the client's mistakes). System trouble
  // (kTemporary, kPermission, ...) is logged with `what` ("copy", "stor", ...) and its detail.
  void reply_store_error(const Status& status, std::string_view what);
  // Makes `folder` the selected one (SFLD): parks the one selected before when it has marks or
  // is INBOX, closes it otherwise; recounts.
  void select_folder(OpenFolder* folder);
  // server_handlers_folders.cc: INBOX's Folders, or nullptr with the -ERR queued (a backend
  // without folders).
  store::Folders* folders_or_reply();
  // The open folder of that name (INBOX in any case, or an exact wire name), or nullptr.
  OpenFolder* open_folder_named(std::string_view name);
  // The one folder argument of SFLD, CFLD and DFLD, or nullopt with the command rejected.
  std::optional<std::string> read_one_folder(const ParsedCommand& command);
  // True when a folder other than INBOX open in this session is `name` or lies beneath it.
  bool open_at_or_beneath(std::string_view name) const;
  void log_folder_change(std::string_view event, std::string_view name);
  // RENF (`target` is the new name) and MOVF (`under`: `target` is the new parent).
  void rename_folder(const std::string& name, const std::string& target, bool under);
  // STOR's data (POP4.md: dot-stuffed, ended by "." alone): each line un-stuffed and passed on
  // as CRLF; the terminator finishes it with +OK uidl or the -ERR of a refusal.
  void process_stor_line(std::string_view line);
  void stor_line_too_long();
  void finish_stor();

  // server_handlers_part.cc
  // The MIME structure of a message: the cached one, or scanned from the store now (and
  // cached when small). Errors: the store's (opening, reading), kLimit (over part_limits).
  Result<PartList> message_structure(MessageIndex index);

  const SessionConfig config_;
  const Clock& clock_;
  Random& random_;
  const std::string remote_ip_;

  SessionState state_ = SessionState::kAuthorization;
  CloseReason close_reason_ = CloseReason::kNone;
  Waiting waiting_ = Waiting::kNothing;
  bool started_ = false;

  // Input.
  LineSplitter splitter_;
  // STLS answered: drop everything buffered behind it once the command line is done
  // (RFC 2595 §4: pipelined plaintext must never run inside TLS).
  bool drop_buffered_input_ = false;
  bool eof_ = false;
  bool input_overflow_ = false;
  bool splitter_discarding_ = false;  // after kTooLong, until a complete line is seen
  size_t splitter_peak_octets_ = 0;   // most input held since the splitter was last renewed

  // Output: out_[out_pos_..] is pending.
  std::string out_;
  size_t out_pos_ = 0;
  ReplyProducerPtr producer_;
  StreamKind stream_kind_ = StreamKind::kList;
  uint64_t stream_expected_octets_ = 0;  // RETR: the size announced

  // AUTHORIZATION.
  std::string apop_timestamp_;    // "<...@hostname>", empty unless APOP is offered
  std::string user_;              // from USER or APOP, untrusted
  bool user_accepted_ = false;    // USER just succeeded: PASS may follow (RFC 1939 §7)
  bool pass_may_follow_ = false;  // user_accepted_ as it was before the current command
  auth::AuthRequest auth_request_;
  std::string_view login_method_;
  auth::UserRecord user_record_;
  uint32_t auth_failures_ = 0;
  uint32_t bad_commands_ = 0;

  // TLS (after STLS, or implicit TLS before start()): version and cipher for the login line
  // (RFC 8314 §4.x asks to record TLS use), channel bindings for SCRAM-*-PLUS.
  bool tls_active_ = false;
  TlsInfo tls_;
  // RFC 6856 §2: after UTF8, user names and passwords must be UTF-8 and are SASLprep'd.
  bool utf8_ = false;

  // A running AUTH exchange. kResponse: the next line answers a "+ " challenge; kFinalAck:
  // the additional data with success was sent, the client's (empty) line concludes it;
  // kFailureAck: a mechanism's error message (SCRAM "e=...") was sent, any line ends in -ERR;
  // kCheck / kLookup: an auth action runs (credential check / SCRAM credential lookup).
  enum class SaslPhase { kNone, kResponse, kFinalAck, kFailureAck, kCheck, kLookup };
  SaslPhase sasl_phase_ = SaslPhase::kNone;
  sasl::ServerMechanismPtr mechanism_;
  std::string mechanism_name_;       // canonical ("SCRAM-SHA-256"); login_method_ points here
  std::string sasl_failure_reason_;  // kFailureAck: for the log
  // From the SCRAM lookup: a kSuccess counts only when the lookup itself succeeded (an unknown
  // user gets made-up credentials and must fail like a wrong password).
  bool sasl_verified_ = false;
  // SCRAM credentials were handed to the mechanism: a failure from here on is a wrong proof
  // (a wrong password or an unknown user), which no driver action has counted yet.
  bool sasl_proof_pending_ = false;
  std::optional<std::string> unreported_auth_failure_;  // take_unreported_auth_failure()
  auth::UserRecord sasl_user_;

  // TRANSACTION / UPDATE: the open folders (OpenFolder above).
  // The most folders a session keeps open at once (the selected one and those with marks):
  // each holds a lock and a snapshot, so a client cannot make one session hold a whole tree.
  static constexpr size_t kMaxOpenFolders = 64;
  // [0] is INBOX (it owns the store::Folders and its lock covers the tree); never empty after
  // login. Pointers are stable: producers refer to a folder's vectors while they stream.
  std::vector<std::unique_ptr<OpenFolder>> open_folders_;
  OpenFolder* selected_ = nullptr;
  uint64_t live_count_ = 0;  // of the selected folder
  uint64_t live_octets_ = 0;
  uint64_t marked_for_update_ = 0;  // messages UPDATE removes, all folders (for the log)
  // STOR: a line of the message may be this long (the splitter's limit while it is read). Far
  // above RFC 5322's 998, and below kMaxBufferedInputOctets, so that one line too long is
  // refused with -ERR at the terminator instead of ending the session as a flood.
  static constexpr size_t kMaxStorLineOctets = 128 * 1024;
  // Un-stuffed lines are handed to the store's writer in pieces of about this size.
  static constexpr size_t kStorChunkOctets = 64 * 1024;
  enum class StorRefusal { kNone, kTooBig, kLineTooLong, kWriteFailed };
  // A STOR whose "+ send message" went out: the lines that follow are its message.
  struct StorState {
    std::string folder;
    store::FolderMessageWriterPtr writer;  // nullptr once refused: read on, store nothing
    std::string chunk;                     // CRLF lines not yet written
    uint64_t octets = 0;                   // received so far, un-stuffed, CRLF counted
    StorRefusal refusal = StorRefusal::kNone;
    Status write_error;  // kWriteFailed: the writer's error, for the log
  };
  // Drops the writer (nothing is stored) and remembers the first reason.
  void discard_stor(StorRefusal refusal, Status error);
  void flush_stor_chunk();
  std::optional<StorState> stor_;

  // PART: the structure of the message PART last named, so that a listing and the part
  // fetches that follow it scan the message once. One message, and only a structure of at
  // most kMaxCachedStructureOctets (server_handlers_part.cc): an idle session stays small.
  struct CachedStructure {
    MessageIndex index;
    PartList parts;
    size_t octets = 0;  // about what it occupies, for buffer_footprint_octets()
  };
  std::optional<CachedStructure> structure_cache_;

  // For the disconnect line (SPEC PR-S-13).
  uint64_t retr_count_ = 0;
  uint64_t retr_octets_ = 0;
  uint64_t top_count_ = 0;
  uint64_t top_octets_ = 0;
  uint64_t deleted_count_ = 0;
  uint64_t part_count_ = 0;  // PART msg section [MIME] replies sent whole
  uint64_t part_octets_ = 0;
};

}  // namespace poplar::pop3
