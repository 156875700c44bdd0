// ServerSession's action loop, buffers and input handling (see server_session.h for the
// contract). The command handlers are in server_handlers_auth.cc and server_handlers_trans.cc;
// which handler runs in which state is decided only by command_table.cc.
//
// Input: receive() only buffers (it never touches the output, so a driver may call it while a
// write of pending_output() is in flight). next_action() takes one complete line at a time and
// runs its command, and only when the previous reply is completely queued and the external
// action it needed (auth, maildrop, commit) has been reported back: PIPELINING (RFC 2449 §6.6)
// keeps replies in command order by construction.
//
// Output: replies are appended to out_. next_action() stops running commands while out_ holds
// kHighWatermarkOctets, and refills a streaming reply (LIST, UIDL, RETR, TOP) when it drops
// below kLowWatermarkOctets. When next_action() returns kClose, pending_output() is empty.
//
// No I/O, no sockets, no files. Thread-safety: not thread-safe.
#include "pop3/server_session.h"

#include <algorithm>
#include <utility>

#include "base/log.h"
#include "base/secret.h"
#include "pop3/command_table.h"
#include "pop3/server_session_impl.h"

namespace poplar::pop3 {

std::string_view close_reason_name(CloseReason reason) {
  switch (reason) {
    case CloseReason::kNone:
      return "none";
    case CloseReason::kQuit:
      return "quit";
    case CloseReason::kPeerClosed:
      return "eof";
    case CloseReason::kTooManyBadCommands:
      return "too-many-bad-commands";
    case CloseReason::kTooManyAuthFailures:
      return "too-many-auth-failures";
    case CloseReason::kLineTooLong:
      return "line-too-long";
    case CloseReason::kIoError:
      return "io-error";
    case CloseReason::kTimeout:
      return "timeout";
    case CloseReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

namespace {

// Output capacity kept between replies; a buffer grown beyond it by a streamed reply is freed
// when that reply has been written.
constexpr size_t kIdleOutputCapacity = 4096;

std::string_view syntax_error_text(SyntaxError error) {
  switch (error) {
    case SyntaxError::kNone:
      return "Syntax error.";
    case SyntaxError::kControlByte:
      return "Invalid character in command.";
    case SyntaxError::kBadKeyword:
      return "Unknown command.";
    case SyntaxError::kMissingArgument:
      return "Missing argument.";
    case SyntaxError::kTooManyArguments:
      return "Too many arguments.";
    case SyntaxError::kEmptyArgument:
      return "Syntax error.";
    case SyntaxError::kBadMessageNumber:
      return "Invalid message number.";
    case SyntaxError::kBadLineCount:
      return "Invalid number of lines.";
    case SyntaxError::kBadArgument:
      return "Invalid argument.";
    case SyntaxError::kBadSection:
      return "Invalid section.";
  }
  return "Syntax error.";
}

std::string count_and_bytes(uint64_t count, uint64_t octets) {
  return std::to_string(count) + "/" + std::to_string(octets);
}

}  // namespace

SessionCore::SessionCore(SessionConfig config, const Clock& clock, Random& random,
                         std::string remote_ip)
    : config_(std::move(config)),
      clock_(clock),
      random_(random),
      remote_ip_(std::move(remote_ip)),
      splitter_(config_.max_command_line_octets) {
  splitter_.set_max_line_octets(line_limit());
}

SessionCore::~SessionCore() {
  // A session destroyed without kClose (driver torn down) still gets its disconnect line.
  close(CloseReason::kShutdown);
}

void SessionCore::start() {
  if (started_) {
    return;
  }
  started_ = true;
  // RFC 1939 §4: any positive greeting; RFC 1939 §7: the APOP timestamp must differ for every
  // greeting. 64 random bits (in decimal, like the RFC's "<pid.clock@host>") plus the clock.
  std::string suffix;
  if (config_.pop4_banner) {
    suffix += " POP4 rev 0";
  }
  if (config_.apop) {
    apop_timestamp_ = "<" + std::to_string(random_.next_u64()) + "." +
                      std::to_string(clock_.unix_seconds()) + "@" + config_.hostname + ">";
    suffix += " " + apop_timestamp_;
  }
  std::string human = config_.hostname + " Poplar POP3 server ready";
  // RFC 2449 §4: 512 octets at most; shorten the human part, never the timestamp.
  constexpr size_t kFixed = 4 + 2;  // "+OK " and CRLF
  size_t room = kMaxResponseLineOctets > kFixed + suffix.size()
                    ? kMaxResponseLineOctets - kFixed - suffix.size()
                    : 0;
  if (human.size() > room) {
    human.resize(room);
  }
  reply_ok(human + suffix);
}

void SessionCore::receive(std::string_view bytes) {
  if (state_ == SessionState::kClosed || input_overflow_) {
    return;
  }
  if (waiting_ == Waiting::kTls) {
    // RFC 2595 §4: plaintext arriving between STLS and the handshake is never executed (the
    // driver should not even read it; this holds if it does).
    return;
  }
  splitter_.append(bytes);
  size_t held = splitter_.buffered();
  splitter_peak_octets_ = std::max(splitter_peak_octets_, held);
  if (held > kMaxBufferedInputOctets) {
    // Flooding past the point where a driver that honours wants_input() would have stopped
    // reading. Drop it now; next_action() ends the session.
    input_overflow_ = true;
    splitter_.clear();
  }
}

void SessionCore::on_eof() { eof_ = true; }

void SessionCore::abort(CloseReason reason) {
  // The driver will not write anything more: drop what is queued.
  out_.clear();
  out_pos_ = 0;
  close(reason);
}

bool SessionCore::wants_input() const {
  return state_ != SessionState::kClosed && !eof_ && !input_overflow_ &&
         splitter_.buffered() < kInputPauseOctets;
}

size_t SessionCore::buffer_footprint_octets() const {
  size_t total = out_.capacity() + splitter_peak_octets_;
  if (producer_ && stream_kind_ != StreamKind::kList) {
    total += MessageProducer::kReadBlockOctets;
  }
  if (structure_cache_) {
    total += structure_cache_->octets;
  }
  if (stor_) {
    total += stor_->chunk.capacity();
  }
  return total;
}

ActionKind SessionCore::next_action() {
  if (!started_) {
    start();  // a driver that forgot start() still gets the greeting first
  }
  for (;;) {
    const size_t pending = out_.size() - out_pos_;
    if (state_ == SessionState::kClosed) {
      return pending > 0 ? ActionKind::kWrite : ActionKind::kClose;
    }
    if (waiting_ == Waiting::kTls) {
      // The driver writes the +OK itself, then runs the handshake (server_session.h).
      return ActionKind::kStartTls;
    }
    if (waiting_ != Waiting::kNothing) {
      // Flush earlier replies first, so the client sees them while slow work runs.
      if (pending > 0) {
        return ActionKind::kWrite;
      }
      switch (waiting_) {
        case Waiting::kAuth:
          return ActionKind::kAuthenticate;
        case Waiting::kMaildrop:
          return ActionKind::kOpenMaildrop;
        case Waiting::kCommit:
          return ActionKind::kCommitUpdate;
        case Waiting::kNothing:
        case Waiting::kTls:
          break;
      }
    }
    if (input_overflow_) {
      log::warning("input-overflow").kv("user", log_user()).kv("rip", remote_ip_);
      close(CloseReason::kLineTooLong);
      continue;
    }
    if (producer_) {
      if (pending < ServerSession::kLowWatermarkOctets) {
        refill_output();
        continue;
      }
      return ActionKind::kWrite;
    }
    if (pending >= ServerSession::kHighWatermarkOctets) {
      return ActionKind::kWrite;  // back-pressure: run no more pipelined commands for now
    }
    LineSplitter::Next next = splitter_.next();
    if (next.kind == LineSplitter::Kind::kLine) {
      splitter_discarding_ = false;
      if (stor_) {
        process_stor_line(next.line);
      } else if (sasl_reading()) {
        process_sasl_line(next.line);
      } else {
        process_line(next.line);
      }
      continue;
    }
    if (next.kind == LineSplitter::Kind::kTooLong) {
      // RFC 2449 §4 / SPEC R2449-4-c: one -ERR for the whole line, then resync at its LF. An
      // AUTH exchange fails with it: the line was its response.
      splitter_discarding_ = true;
      if (stor_) {
        stor_line_too_long();  // a line of STOR's message: refused at its terminator
        continue;
      }
      user_accepted_ = false;
      end_sasl();
      reject_command("Line too long.");
      continue;
    }
    if (pending > 0) {
      return ActionKind::kWrite;
    }
    if (eof_) {
      // RFC 1939 §6: a session that ends without QUIT never enters UPDATE.
      close(CloseReason::kPeerClosed);
      continue;
    }
    release_idle_memory();
    return ActionKind::kRead;
  }
}

std::string_view SessionCore::pending_output() const {
  return std::string_view(out_).substr(out_pos_);
}

void SessionCore::consume_output(size_t n) {
  out_pos_ += std::min(n, out_.size() - out_pos_);
  if (out_pos_ == out_.size()) {
    out_pos_ = 0;
    if (!producer_ && out_.capacity() > kIdleOutputCapacity) {
      // A long reply is over: give its buffer back, so a session that fetched mail and now
      // idles costs what an idle session costs (DESIGN §7).
      std::string().swap(out_);
    } else {
      out_.clear();
    }
  }
}

std::string& SessionCore::out() {
  if (out_pos_ > 0) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  return out_;
}

void SessionCore::reply_ok(std::string_view text) { append_ok(out(), text); }

void SessionCore::reply_err(std::string_view text, ResponseCode code) {
  append_err(out(), text, code);
}

void SessionCore::reject_command(std::string_view text, ResponseCode code) {
  ++bad_commands_;
  uint32_t limit = state_ == SessionState::kTransaction ? config_.max_bad_commands_after_login
                                                        : config_.max_bad_commands_before_login;
  if (limit != 0 && bad_commands_ >= limit) {
    // One reply per command even now, so a pipelining client stays in step until the end.
    reply_err("Too many bad commands.");
    log::warning("too-many-bad-commands").kv("user", log_user()).kv("rip", remote_ip_);
    close(CloseReason::kTooManyBadCommands);
    return;
  }
  reply_err(text, code);
}

void SessionCore::process_line(std::string_view line) {
  ParsedCommand command = parse_command_line(line);
  // The splitter's limit is raised while SASL is possible; only AUTH may use the extra room.
  // The octet after the view is the line's CR or LF, still in the splitter's buffer.
  const size_t octets = line.size() + (line.data()[line.size()] == '\r' ? 2 : 1);
  if (octets > config_.max_command_line_octets && command.command != Command::kAuth) {
    user_accepted_ = false;
    reject_command("Line too long.");  // RFC 2449 §4, as for a line the splitter refused
  } else {
    dispatch(command);
  }
  // The line may have held a password (PASS, a mistyped PASS, later AUTH): wipe it where the
  // splitter keeps it. The bytes belong to the splitter's (non-const) buffer and are not read
  // again.
  secure_wipe(const_cast<char*>(line.data()), line.size());
  if (drop_buffered_input_) {
    // RFC 2595 §4: whatever was pipelined behind STLS is discarded, never executed.
    drop_buffered_input_ = false;
    splitter_.clear();
    splitter_discarding_ = false;
  }
}

void SessionCore::dispatch(const ParsedCommand& command) {
  // RFC 1939 §7: PASS is valid only immediately after a successful USER.
  pass_may_follow_ = std::exchange(user_accepted_, false);
  if (command.error == SyntaxError::kControlByte) {
    reject_command(syntax_error_text(command.error));
    return;
  }
  if (command.command == Command::kUnknown || !command_enabled(command.command, config_)) {
    // An extension that is switched off is not there at all (POP4.md: plain POP3 clients see
    // no difference), in every state.
    reject_command("Unknown command.");
    return;
  }
  Handler handler = handler_for(command.command, state_);
  if (handler == nullptr) {
    reject_command("Command not valid in this state.");  // RFC 1939 §3 (SPEC R1939-3-i)
    return;
  }
  if (command.error != SyntaxError::kNone) {
    reject_command(syntax_error_text(command.error));
    return;
  }
  (this->*handler)(command);
}

void SessionCore::start_stream(StreamKind kind, ReplyProducerPtr producer) {
  stream_kind_ = kind;
  producer_ = std::move(producer);
}

void SessionCore::refill_output() {
  Result<bool> done = producer_->produce(out(), ServerSession::kHighWatermarkOctets);
  if (!done.is_ok()) {
    // The +OK and part of the message are already queued: an -ERR is no longer possible, and
    // a "." would turn a truncated message into a complete-looking one. Close instead; the
    // client sees the missing terminator.
    log::error("message-read-failed")
        .kv("user", log_user())
        .kv("rip", remote_ip_)
        .kv("error", done.status().to_string());
    producer_.reset();
    close(CloseReason::kIoError);
    return;
  }
  if (!*done) {
    return;
  }
  if (stream_kind_ != StreamKind::kList) {
    auto* message = static_cast<MessageProducer*>(producer_.get());
    uint64_t octets = message->payload_octets();
    if (stream_kind_ == StreamKind::kPart) {
      ++part_count_;
      part_octets_ += octets;
      if (octets != stream_expected_octets_) {
        // mime/'s wire size and the stuffer disagree: a client reading exactly the announced
        // octets will misbehave. A bug to fix, not something the client did.
        log::warning("part-size-mismatch")
            .kv("user", log_user())
            .kv("expected", stream_expected_octets_)
            .kv("sent", octets);
      }
    } else if (stream_kind_ == StreamKind::kRetr) {
      ++retr_count_;
      retr_octets_ += octets;
      if (octets != stream_expected_octets_ && !config_.workaround_oe_ns_eoh) {
        // The store's size and the bytes disagree: clients that read exactly LIST's size
        // will misbehave (SPEC PR-S-7). Nothing can be fixed now; tell the operator.
        log::warning("size-mismatch")
            .kv("user", log_user())
            .kv("expected", stream_expected_octets_)
            .kv("sent", octets);
      }
    } else {
      ++top_count_;
      top_octets_ += octets;
    }
  }
  producer_.reset();
}

void SessionCore::close(CloseReason reason) {
  if (state_ == SessionState::kClosed) {
    return;
  }
  state_ = SessionState::kClosed;
  close_reason_ = reason;
  producer_.reset();
  mechanism_.reset();
  stor_.reset();  // a STOR cut off: its writer goes, and nothing of the message is stored
  splitter_.clear();
  structure_cache_.reset();
  // A worker may still be using these for an action in flight; the on_*() that reports it
  // releases them. Otherwise release now: dropping the maildrop releases its lock without
  // changing anything (RFC 1939 §6).
  if (waiting_ != Waiting::kAuth) {
    auth_request_.password.wipe();
  }
  if (waiting_ != Waiting::kCommit && waiting_ != Waiting::kMaildrop) {
    release_folders();
  }
  auto line = log::info("disconnect");
  line.kv("user", log_user())
      .kv("rip", remote_ip_)
      .kv("reason", close_reason_name(reason))
      .kv("retr", count_and_bytes(retr_count_, retr_octets_))
      .kv("top", count_and_bytes(top_count_, top_octets_))
      .kv("dele", deleted_count_);
  if (config_.pop4.parts) {  // plain POP3 servers keep the line they always had
    line.kv("part", count_and_bytes(part_count_, part_octets_));
  }
}

void SessionCore::release_idle_memory() {
  if (out_.empty() && out_.capacity() > kIdleOutputCapacityOctets) {
    std::string().swap(out_);
  }
  // LineSplitter keeps its buffer's capacity; renew it once a burst of pipelined input has
  // been processed. Not while it is skipping an overlong line: that state would be lost.
  if (splitter_peak_octets_ > kIdleOutputCapacityOctets && splitter_.buffered() == 0 &&
      !splitter_discarding_) {
    splitter_ = LineSplitter(line_limit());
    splitter_peak_octets_ = 0;
  }
}

size_t SessionCore::line_limit() const {
  if (stor_) {
    return kMaxStorLineOctets;  // a message's lines, not commands
  }
  if (state_ == SessionState::kAuthorization && !config_.sasl_mechanisms.empty()) {
    return std::max(config_.max_command_line_octets, config_.max_auth_line_octets);
  }
  return config_.max_command_line_octets;
}

std::string_view SessionCore::log_user() const {
  return user_record_.name.empty() ? std::string_view(user_) : std::string_view(user_record_.name);
}

const auth::AuthRequest& SessionCore::auth_request() const { return auth_request_; }

const auth::UserRecord& SessionCore::authenticated_user() const { return user_record_; }

void SessionCore::release_folders() {
  selected_ = nullptr;
  while (!open_folders_.empty()) {
    open_folders_.pop_back();
  }
}

// ServerSession forwards everything to the core.

class ServerSession::Impl : public SessionCore {
 public:
  using SessionCore::SessionCore;
};

ServerSession::ServerSession(SessionConfig config, const Clock& clock, Random& random,
                             std::string remote_ip)
    : impl_(std::make_unique<Impl>(std::move(config), clock, random, std::move(remote_ip))) {}
ServerSession::~ServerSession() = default;
void ServerSession::start() { impl_->start(); }
void ServerSession::receive(std::string_view bytes) { impl_->receive(bytes); }
void ServerSession::on_eof() { impl_->on_eof(); }
void ServerSession::abort(CloseReason reason) { impl_->abort(reason); }
void ServerSession::on_tls_started(TlsInfo info) { impl_->on_tls_started(std::move(info)); }
ActionKind ServerSession::next_action() { return impl_->next_action(); }
std::string_view ServerSession::pending_output() const { return impl_->pending_output(); }
void ServerSession::consume_output(size_t n) { impl_->consume_output(n); }
const auth::AuthRequest& ServerSession::auth_request() const { return impl_->auth_request(); }
std::optional<std::string> ServerSession::take_unreported_auth_failure() {
  return impl_->take_unreported_auth_failure();
}
void ServerSession::on_auth_result(auth::AuthResult result) {
  impl_->on_auth_result(std::move(result));
}
const auth::UserRecord& ServerSession::authenticated_user() const {
  return impl_->authenticated_user();
}
void ServerSession::on_maildrop_opened(Result<store::MaildropPtr> maildrop) {
  impl_->on_maildrop_opened(std::move(maildrop));
}
Status ServerSession::run_update() { return impl_->run_update(); }
void ServerSession::on_update_committed(Status status) {
  impl_->on_update_committed(std::move(status));
}
SessionState ServerSession::state() const { return impl_->state(); }
CloseReason ServerSession::close_reason() const { return impl_->close_reason(); }
bool ServerSession::wants_input() const { return impl_->wants_input(); }
size_t ServerSession::buffer_footprint_octets() const { return impl_->buffer_footprint_octets(); }

}  // namespace poplar::pop3
