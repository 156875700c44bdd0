// ClientSession: input and output, greeting, CAPA, STLS, the listing and the driver's
// RETR/DELE/MOVE/QUIT. Authentication is in client_session_auth.cc, the POP4 folder steps in
// client_session_pop4.cc. See client_session.h.
//
// Thread-safety: see client_session.h.
#include "pop3/client_session.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "base/ascii.h"
#include "base/secret.h"
#include "base/strict_number.h"
#include "pop3/client_session_impl.h"
#include "store/uidl_syntax.h"

namespace poplar::pop3 {

namespace {

// Commands must fit RFC 2449 §4's 255 octets with their CRLF.
constexpr size_t kMaxCommandOctets = 255;
// CAPA lines kept (a hostile server could send millions; real ones send about 15).
constexpr size_t kMaxCapabilityLines = 256;

ServerReply reply_of(const StatusLine& status) {
  return ServerReply{status.ok(), std::string(status.code), std::string(status.text)};
}

// "[SYS/TEMP] ..." → kTemporary, "[SYS/PERM]" → kPermanent, anything else → `otherwise`.
FailureKind classify_server_error(std::string_view code, FailureKind otherwise) {
  FailureKind kind = classify_login_error(code);
  return kind == FailureKind::kAuth ? otherwise : kind;
}

}  // namespace

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') {
      ++i;
    }
    size_t start = i;
    while (i < text.size() && text[i] != ' ') {
      ++i;
    }
    if (i > start) {
      words.push_back(text.substr(start, i - start));
    }
  }
  return words;
}

bool equals_ignore_case(std::string_view a, std::string_view b) { return ascii_iequals(a, b); }

ClientSession::Impl::Impl(ClientSessionConfig config, ClientEvents& events, Random& random)
    : config_(std::move(config)),
      events_(events),
      random_(random),
      normalizer_(config_.lenient_dot_lf),
      parser_(std::max<size_t>(config_.max_line_octets, 64)) {
  tls_active_ = config_.tls == TlsRequirement::kImplicit;
  // Room for the longest command, so the buffer holding a PASS line is not reallocated (and a
  // copy of the password left behind in freed memory) while it is queued.
  out_.reserve(2 * kMaxCommandOctets);
  in_flight_.push_back({Command::kGreeting, 0});
  parser_.expect(ResponseShape::kStatusOnly);
}

ClientSession::Impl::~Impl() {
  secure_wipe(out_.data(), out_.size());
  secure_wipe(withheld_initial_response_.data(), withheld_initial_response_.size());
}

void ClientSession::Impl::send(Command command, uint32_t number, std::string_view line,
                               ResponseShape shape) {
  out_.append(line);
  out_.append("\r\n");  // PR-C-9: every command, QUIT included
  in_flight_.push_back({command, number});
  parser_.expect(shape);
}

void ClientSession::Impl::fail(FailureKind kind, std::string reason, std::string_view code,
                               std::string_view needs) {
  if (phase_ == Phase::kFailed || phase_ == Phase::kDone) {
    return;
  }
  failed_while_pipelining_ = pipelined_now();
  phase_ = Phase::kFailed;
  failure_ = ClientFailure{kind, std::move(reason), std::string(code), std::string(needs)};
  pending_end_.reset();  // its end was never confirmed: not delivered
  secure_wipe(out_.data(), out_.size());
  out_.clear();
  config_.password.wipe();
  mechanism_.reset();
  in_flight_.clear();
  queued_.clear();
  // Stops the parser inside feed(): nothing after a failure is looked at.
  parser_.set_unexpected_data();
  events_.on_failed(failure_);
}

void ClientSession::Impl::receive(std::string_view bytes) {
  if (phase_ == Phase::kFailed || phase_ == Phase::kDone || bytes.empty()) {
    return;
  }
  if (phase_ == Phase::kAwaitTls) {
    // RFC 2595 §4: nothing may come between the STLS +OK and the handshake. Plaintext here
    // would be read as if it came over TLS: a response-injection attack.
    fail(FailureKind::kProtocol, "the server sent data after accepting STLS, before TLS");
    return;
  }
  scratch_.clear();
  if (phase_ == Phase::kGreeting && !greeting_line_end_seen_) {
    // PR-C-6: a server whose greeting ends in a bare LF writes its own lines (terminators
    // included) that way (node-pop3#26/#27), so a "." line ended by a bare LF is its
    // terminator: lenient from the next line on. A CRLF greeting keeps the strict rule, where
    // such a line is message data the server forgot to stuff (greenmail#1049).
    size_t lf = bytes.find('\n');
    if (lf == std::string_view::npos) {
      greeting_last_was_cr_ = bytes.back() == '\r';
    } else {
      greeting_line_end_seen_ = true;
      const bool bare = lf == 0 ? !greeting_last_was_cr_ : bytes[lf - 1] != '\r';
      if (bare && !config_.lenient_dot_lf) {
        normalizer_.normalize(bytes.substr(0, lf + 1), scratch_);
        bytes.remove_prefix(lf + 1);
        normalizer_ = LineEndNormalizer(/*lenient_dot_lf=*/true);  // at a line start, as it was
      }
    }
  }
  normalizer_.normalize(bytes, scratch_);
  size_t used = parser_.feed(scratch_, *this);
  if (phase_ == Phase::kFailed || phase_ == Phase::kDone) {
    return;
  }
  if (parser_.failed()) {
    fail(FailureKind::kProtocol,
         "bad server reply: " + std::string(parser_.error_text()) +
             (pipelined_now() ? " (responses to pipelined commands out of order?)" : ""));
    return;
  }
  if (used < scratch_.size()) {
    fail(FailureKind::kProtocol, phase_ == Phase::kAwaitTls
                                     ? "the server sent data after accepting STLS, before TLS"
                                     : "the server sent data nobody asked for");
  }
}

void ClientSession::Impl::on_eof() {
  if (phase_ == Phase::kFailed || phase_ == Phase::kDone) {
    return;
  }
  if (refusal_) {
    // Nothing was changed on the server; the refusal is the news, not the lost QUIT answer.
    ClientFailure refusal = std::move(*refusal_);
    fail(refusal.kind, std::move(refusal.reason), refusal.response_code, refusal.needs);
    return;
  }
  std::string reason = "the server closed the connection";
  if (!in_flight_.empty()) {
    const Sent& sent = in_flight_.front();
    switch (sent.command) {
      case Command::kGreeting:
        reason += " before its greeting";
        break;
      case Command::kRetr:
        reason += retr_body_started_ ? " during message " + std::to_string(sent.number)
                                     : std::string(" while a command was outstanding");
        break;
      case Command::kQuit:
        reason += " before answering QUIT: deletions may not have been committed";
        break;
      default:
        reason += " while a command was outstanding";
        break;
    }
  }
  fail(FailureKind::kTemporary, std::move(reason));
}

void ClientSession::Impl::on_tls_started(sasl::ChannelBindings bindings) {
  if (phase_ == Phase::kFailed || phase_ == Phase::kDone) {
    return;
  }
  bindings_ = std::move(bindings);
  bindings_.tls_active = true;
  tls_active_ = true;
  if (phase_ == Phase::kAwaitTls) {
    // RFC 2595 §4: capabilities learned before TLS are forgotten and asked for again.
    capabilities_.clear();
    capa_known_ = false;
    phase_ = Phase::kCapa;
    send(Command::kCapa, 0, "CAPA", ResponseShape::kLines);
  }
}

ClientAction ClientSession::Impl::next_action() {
  if (phase_ == Phase::kFailed) {
    return ClientAction::kClose;
  }
  if (!out_.empty()) {
    return ClientAction::kWrite;
  }
  switch (phase_) {
    case Phase::kAwaitTls:
      return ClientAction::kStartTls;
    case Phase::kDone:
      return ClientAction::kClose;
    case Phase::kTransaction:
      return in_flight_.empty() && queued_.empty() ? ClientAction::kIdle : ClientAction::kRead;
    default:
      return ClientAction::kRead;
  }
}

void ClientSession::Impl::consume_output(size_t n) {
  n = std::min(n, out_.size());
  // The PASS and APOP lines carry secrets: nothing written stays behind in the buffer.
  secure_wipe(out_.data(), n);
  out_.erase(0, n);
}

void ClientSession::Impl::queue(Command command, uint32_t number) {
  if (quit_queued_ || phase_ == Phase::kFailed || phase_ == Phase::kDone ||
      phase_ == Phase::kRefused || number == 0) {
    return;
  }
  if (command == Command::kMove && config_.move_to.empty()) {
    return;
  }
  queued_.push_back({command, number});
  flush_queued();
}

void ClientSession::Impl::finish() {
  if (quit_queued_ || phase_ == Phase::kFailed || phase_ == Phase::kDone ||
      phase_ == Phase::kRefused) {
    return;
  }
  quit_queued_ = true;
  queued_.push_back({Command::kQuit, 0});
  flush_queued();
}

void ClientSession::Impl::flush_queued() {
  if (phase_ != Phase::kTransaction) {
    return;
  }
  // PR-C-11: a bounded window with PIPELINING, lock-step without.
  const size_t window = pipelining_ ? std::max<size_t>(config_.pipelining_window, 1) : 1;
  while (!queued_.empty() && in_flight_.size() < window) {
    Sent next = queued_.front();
    queued_.pop_front();
    switch (next.command) {
      case Command::kRetr:
        send(next.command, next.number, "RETR " + std::to_string(next.number),
             ResponseShape::kPayload);
        break;
      case Command::kDele:
        send(next.command, next.number, "DELE " + std::to_string(next.number),
             ResponseShape::kStatusOnly);
        break;
      case Command::kMove:
        send(next.command, next.number, move_command(next.number), ResponseShape::kStatusOnly);
        break;
      default:
        send(Command::kQuit, 0, "QUIT", ResponseShape::kStatusOnly);
        break;
    }
  }
}

bool ClientSession::Impl::pipelined_now() const {
  return phase_ == Phase::kTransaction && (in_flight_.size() > 1 || pending_end_.has_value());
}

void ClientSession::Impl::complete_pending_message() {
  if (pending_end_) {
    PendingEnd done = *pending_end_;
    pending_end_.reset();
    events_.on_message_end(done.number, done.octets);
  }
}

bool ClientSession::Impl::plaintext_password_ok() const {
  return tls_active_ || config_.allow_plaintext_password;
}

bool ClientSession::Impl::has_capability(std::string_view tag) const {
  return std::any_of(capabilities_.begin(), capabilities_.end(),
                     [&](const auto& capa) { return equals_ignore_case(capa.first, tag); });
}

std::vector<std::string_view> ClientSession::Impl::capability_args(std::string_view tag) const {
  for (const auto& capa : capabilities_) {
    if (equals_ignore_case(capa.first, tag)) {
      return split_words(capa.second);
    }
  }
  return {};
}

void ClientSession::Impl::on_status(const StatusLine& status, uint32_t) {
  if (phase_ == Phase::kFailed || phase_ == Phase::kDone || in_flight_.empty()) {
    return;
  }
  const Sent sent = in_flight_.front();
  if (status.kind == StatusKind::kContinuation && sent.command != Command::kAuth) {
    fail(FailureKind::kProtocol,
         "the server sent a SASL continuation outside AUTH: " + sanitize_server_text(status.line));
    return;
  }
  // The response after a pipelined message starts well: that message's end was its own.
  complete_pending_message();
  if (phase_ == Phase::kFailed || phase_ == Phase::kDone) {
    return;
  }
  // A multi-line response stays in flight until its terminator.
  const bool body_follows =
      status.ok() && (sent.command == Command::kCapa || sent.command == Command::kUidl ||
                      sent.command == Command::kList || sent.command == Command::kRetr ||
                      sent.command == Command::kLfld);
  if (!body_follows && status.kind != StatusKind::kContinuation) {
    in_flight_.pop_front();
  }
  switch (sent.command) {
    case Command::kGreeting:
      if (!status.ok()) {
        fail(classify_server_error(status.code, FailureKind::kTemporary),
             "the server refused the connection: " + sanitize_server_text(status.text),
             status.code);
        return;
      }
      {
        // PR-C-12: the APOP timestamp verbatim, from "<" to the next ">", wherever it is.
        size_t open = status.line.find('<');
        size_t close = open == std::string_view::npos ? open : status.line.find('>', open);
        if (close != std::string_view::npos) {
          apop_timestamp_.assign(status.line.substr(open, close - open + 1));
        }
      }
      phase_ = Phase::kCapa;
      send(Command::kCapa, 0, "CAPA", ResponseShape::kLines);
      return;
    case Command::kCapa:
      if (!status.ok()) {
        // RFC 1939-only server (R2449-5-f): no capabilities; probe as we go. After login a
        // -ERR keeps what was learned before.
        if (phase_ != Phase::kCapaAfterLogin) {
          capabilities_.clear();
          capa_known_ = false;
        }
        handle_capa_done();
      } else {
        capabilities_.clear();
        capa_known_ = true;
      }
      return;
    case Command::kStls:
      if (!status.ok()) {
        fail(FailureKind::kConfig,
             "TLS is required but the server refused STLS: " + sanitize_server_text(status.text),
             status.code);
        return;
      }
      phase_ = Phase::kAwaitTls;
      return;
    case Command::kUser:
    case Command::kPass:
    case Command::kApop:
    case Command::kAuth:
      handle_auth_reply(status, sent.command);
      return;
    case Command::kStat:
      if (!status.ok()) {
        fail(classify_server_error(status.code, FailureKind::kProtocol),
             "the server refused STAT: " + sanitize_server_text(status.text), status.code);
        return;
      }
      // STAT's numbers only size the table; odd servers (MailKit#872) are tolerated.
      if (auto words = split_words(status.text); !words.empty()) {
        if (auto count = parse_u32(words[0])) {
          messages_.reserve(std::min<uint32_t>(*count, 1u << 16));
        }
      }
      phase_ = Phase::kUidl;
      send(Command::kUidl, 0, "UIDL", ResponseShape::kLines);
      return;
    case Command::kUidl:
      if (!status.ok()) {
        uidl_supported_ = false;  // R1939-3-j: -ERR to an optional command = unavailable
        phase_ = Phase::kList;
        send(Command::kList, 0, "LIST", ResponseShape::kLines);
      }
      return;
    case Command::kList:
      if (!status.ok()) {
        fail(classify_server_error(status.code, FailureKind::kProtocol),
             "the server refused LIST: " + sanitize_server_text(status.text), status.code);
      }
      return;
    case Command::kRetr:
      if (status.ok()) {
        retr_octets_ = 0;
        retr_body_started_ = true;
        events_.on_message_begin(sent.number);
      } else {
        events_.on_message_error(sent.number, reply_of(status));
        flush_queued();
      }
      return;
    case Command::kDele:
      deletions_marked_ += status.ok() ? 1 : 0;
      events_.on_deleted(sent.number, reply_of(status));
      flush_queued();
      return;
    case Command::kMove:
      deletions_marked_ += status.ok() ? 1 : 0;
      events_.on_moved(sent.number, reply_of(status));
      flush_queued();
      return;
    case Command::kSfld:
      handle_sfld_reply(status);
      return;
    case Command::kLfld:
      handle_lfld_reply(status);
      return;
    case Command::kQuit:
      if (refusal_) {
        // QUIT after a refusal: whatever it says, nothing had been changed.
        ClientFailure refusal = std::move(*refusal_);
        fail(refusal.kind, std::move(refusal.reason), refusal.response_code, refusal.needs);
        return;
      }
      quit_ok_ = status.ok();
      events_.on_quit(reply_of(status));
      if (!status.ok() && deletions_marked_ > 0) {
        // RFC 1939 §6: the messages marked deleted are still there. Not harmless: the driver
        // must not count them as deleted, and the run should be retried.
        fail(classify_server_error(status.code, FailureKind::kTemporary),
             "the server refused QUIT, so the messages marked deleted were not removed: " +
                 sanitize_server_text(status.text),
             status.code);
        return;
      }
      phase_ = Phase::kDone;
      return;
  }
}

void ClientSession::Impl::on_line(std::string_view line, uint32_t) {
  if (phase_ == Phase::kFailed || in_flight_.empty()) {
    return;
  }
  switch (in_flight_.front().command) {
    case Command::kCapa: {
      if (capabilities_.size() >= kMaxCapabilityLines) {
        return;
      }
      std::vector<std::string_view> words = split_words(line);
      if (words.empty()) {
        return;
      }
      size_t rest = static_cast<size_t>(words[0].data() + words[0].size() - line.data());
      std::string_view args = line.substr(rest);
      while (!args.empty() && args.front() == ' ') {
        args.remove_prefix(1);
      }
      capabilities_.emplace_back(ascii_upper(words[0]), std::string(args));
      return;
    }
    case Command::kUidl: {
      // PR-C-3: any number of spaces between the fields.
      std::vector<std::string_view> words = split_words(line);
      std::optional<uint32_t> number;
      if (words.size() == 2) {
        number = parse_u32(words[0]);
      }
      if (!number || *number == 0 || !store::is_valid_uidl(words[1])) {
        fail(FailureKind::kProtocol, "bad UIDL line: " + sanitize_server_text(line));
        return;
      }
      uidls_.emplace_back(*number, std::string(words[1]));
      return;
    }
    case Command::kList: {
      // PR-C-3 again; extra words after the size are allowed (RFC 1939 §5).
      std::vector<std::string_view> words = split_words(line);
      std::optional<uint32_t> number;
      std::optional<uint64_t> octets;
      if (words.size() >= 2) {
        number = parse_u32(words[0]);
        octets = parse_u64(words[1]);
      }
      if (!number || *number == 0 || !octets) {
        fail(FailureKind::kProtocol, "bad LIST line: " + sanitize_server_text(line));
        return;
      }
      messages_.push_back(ListedMessage{*number, *octets, {}});
      return;
    }
    case Command::kLfld:
      handle_lfld_line(line);
      return;
    default:
      return;
  }
}

void ClientSession::Impl::on_payload(std::string_view data, uint32_t) {
  if (phase_ == Phase::kFailed || in_flight_.empty()) {
    return;
  }
  events_.on_message_data(in_flight_.front().number, data);
}

void ClientSession::Impl::on_body_end(uint64_t payload_octets, uint32_t) {
  if (phase_ == Phase::kFailed || in_flight_.empty()) {
    return;
  }
  const Sent sent = in_flight_.front();
  in_flight_.pop_front();
  switch (sent.command) {
    case Command::kCapa:
      handle_capa_done();
      return;
    case Command::kUidl:
      phase_ = Phase::kList;
      send(Command::kList, 0, "LIST", ResponseShape::kLines);
      return;
    case Command::kList:
      handle_listing_done();
      return;
    case Command::kLfld:
      handle_lfld_done();
      return;
    case Command::kRetr:
      retr_body_started_ = false;
      if (!in_flight_.empty()) {
        // wildduck#950: a server that wrote the next response before this message's "." made
        // the "." look like ours too early. Wait for the next status line to confirm it.
        pending_end_ = PendingEnd{sent.number, payload_octets};
      } else {
        events_.on_message_end(sent.number, payload_octets);
      }
      flush_queued();
      return;
    default:
      return;
  }
}

void ClientSession::Impl::handle_capa_done() {
  if (phase_ == Phase::kCapaAfterLogin) {
    pipelining_ = config_.allow_pipelining && has_capability("PIPELINING");
    start_after_login();
    return;
  }
  if (config_.tls == TlsRequirement::kStartTls && !tls_active_) {
    // RFC 2595 §4 needs CAPA for STLS, but a server without CAPA may still know STLS: asking
    // costs nothing, and a -ERR fails the session either way (never a plaintext fallback).
    if (capa_known_ && !has_capability("STLS")) {
      fail(FailureKind::kConfig,
           "TLS is required but the server does not offer STLS (refusing to continue in "
           "plaintext)");
      return;
    }
    send(Command::kStls, 0, "STLS", ResponseShape::kStatusOnly);
    return;
  }
  phase_ = Phase::kAuth;
  start_auth();
}

void ClientSession::Impl::handle_listing_done() {
  if (uidl_supported_) {
    std::sort(uidls_.begin(), uidls_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (ListedMessage& message : messages_) {
      auto it = std::lower_bound(uidls_.begin(), uidls_.end(), message.number,
                                 [](const auto& entry, uint32_t n) { return entry.first < n; });
      if (it == uidls_.end() || it->first != message.number) {
        fail(FailureKind::kProtocol,
             "UIDL has no unique-id for message " + std::to_string(message.number));
        return;
      }
      message.uidl = std::move(it->second);
    }
  }
  uidls_.clear();
  uidls_.shrink_to_fit();
  phase_ = Phase::kTransaction;
  events_.on_listing(messages_);
  flush_queued();
}

// ---- ClientSession: forwarding ----

ClientSession::ClientSession(ClientSessionConfig config, ClientEvents& events, Random& random)
    : impl_(std::make_unique<Impl>(std::move(config), events, random)) {}
ClientSession::~ClientSession() = default;

void ClientSession::receive(std::string_view bytes) { impl_->receive(bytes); }
void ClientSession::on_eof() { impl_->on_eof(); }
void ClientSession::on_tls_started(sasl::ChannelBindings bindings) {
  impl_->on_tls_started(std::move(bindings));
}
ClientAction ClientSession::next_action() { return impl_->next_action(); }
std::string_view ClientSession::pending_output() const { return impl_->pending_output(); }
void ClientSession::consume_output(size_t n) { impl_->consume_output(n); }
void ClientSession::retrieve(uint32_t number) { impl_->queue(Impl::Command::kRetr, number); }
void ClientSession::remove(uint32_t number) { impl_->queue(Impl::Command::kDele, number); }
void ClientSession::move(uint32_t number) { impl_->queue(Impl::Command::kMove, number); }
void ClientSession::finish() { impl_->finish(); }

bool ClientSession::logged_in() const {
  using Phase = Impl::Phase;
  Phase phase = impl_->phase_;
  return phase == Phase::kCapaAfterLogin || phase == Phase::kSelectFolder ||
         phase == Phase::kListFolders || phase == Phase::kStat || phase == Phase::kUidl ||
         phase == Phase::kList || phase == Phase::kTransaction || phase == Phase::kDone;
}
bool ClientSession::finished() const {
  return impl_->phase_ == Impl::Phase::kDone || impl_->phase_ == Impl::Phase::kFailed;
}
bool ClientSession::failed() const { return impl_->phase_ == Impl::Phase::kFailed; }
const ClientFailure& ClientSession::failure() const { return impl_->failure_; }
bool ClientSession::quit_ok() const { return impl_->quit_ok_; }
bool ClientSession::has_capability(std::string_view tag) const {
  return impl_->has_capability(tag);
}
bool ClientSession::offers_pop4(std::string_view ability) const {
  return impl_->offers_pop4(ability);
}
bool ClientSession::pipelining() const { return impl_->pipelining_; }
bool ClientSession::failed_while_pipelining() const { return impl_->failed_while_pipelining_; }
std::optional<uint32_t> ClientSession::expire_days() const {
  // "EXPIRE 30", "EXPIRE 5 USER" (per-user, before login), "EXPIRE NEVER".
  std::vector<std::string_view> args = impl_->capability_args("EXPIRE");
  if (args.empty() || equals_ignore_case(args[0], "NEVER")) {
    return std::nullopt;
  }
  return parse_u32(args[0]);
}
bool ClientSession::uidl_supported() const { return impl_->uidl_supported_; }
uint32_t ClientSession::login_delay_seconds() const {
  std::vector<std::string_view> args = impl_->capability_args("LOGIN-DELAY");
  if (args.empty()) {
    return 0;
  }
  return parse_u32(args[0]).value_or(0);
}
std::string_view ClientSession::apop_timestamp() const { return impl_->apop_timestamp_; }
std::span<const ListedMessage> ClientSession::messages() const { return impl_->messages_; }
size_t ClientSession::outstanding() const { return impl_->in_flight_.size(); }

}  // namespace poplar::pop3
