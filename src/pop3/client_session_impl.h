// ClientSession::Impl, shared by the files that implement it: client_session.cc (input, output,
// greeting, CAPA, STLS, listing, RETR/DELE/QUIT), client_session_auth.cc (choosing and
// running USER/PASS, APOP or a SASL mechanism) and client_session_pop4.cc (the POP4 folder
// steps after login: SFLD, LFLD, MOVE's answer, and QUIT after a refusal). Internal to pop3/.
//
// Thread-safety: see client_session.h.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pop3/client_line_ends.h"
#include "pop3/client_response.h"
#include "pop3/client_session.h"
#include "sasl/mechanism.h"

namespace poplar::pop3 {

class ClientSession::Impl final : public ResponseHandler {
 public:
  Impl(ClientSessionConfig config, ClientEvents& events, Random& random);
  ~Impl() override;

  void receive(std::string_view bytes);
  void on_eof();
  void on_tls_started(sasl::ChannelBindings bindings);
  ClientAction next_action();
  std::string_view pending_output() const { return out_; }
  void consume_output(size_t n);
  void finish();

  // ResponseHandler
  void on_status(const StatusLine& status, uint32_t tag) override;
  void on_line(std::string_view line, uint32_t tag) override;
  void on_payload(std::string_view data, uint32_t tag) override;
  void on_body_end(uint64_t payload_octets, uint32_t tag) override;

  // What the session is waiting for.
  enum class Phase {
    kGreeting,
    kCapa,            // CAPA before login (again after STLS)
    kAwaitTls,        // STLS accepted; the driver runs the handshake
    kAuth,            // USER/PASS, APOP or AUTH in progress
    kCapaAfterLogin,  // PR-C-10
    kSelectFolder,    // POP4 SFLD (config folder)
    kListFolders,     // POP4 LFLD (config list_folders)
    kRefused,         // QUIT sent after a refusal (refusal_): nothing was changed
    kStat,
    kUidl,
    kList,
    kTransaction,  // listed: the driver's RETR/DELE/QUIT
    kDone,         // QUIT answered
    kFailed,
  };
  enum class Command : uint8_t {
    kGreeting,
    kCapa,
    kStls,
    kUser,
    kPass,
    kApop,
    kAuth,
    kStat,
    kUidl,
    kList,
    kRetr,
    kDele,
    kQuit,
    kSfld,
    kLfld,
    kMove,
  };
  struct Sent {
    Command command;
    uint32_t number;
  };
  void queue(Command command, uint32_t number);

  // client_session_auth.cc
  void start_auth();
  void start_sasl(const std::string& mechanism);
  void handle_auth_reply(const StatusLine& status, Command command);
  void handle_sasl_challenge(const StatusLine& status);
  void cancel_sasl(FailureKind kind, std::string reason);
  void logged_in(std::string method);

  // client_session_pop4.cc
  // After the CAPA that follows login: SFLD, LFLD or STAT, or a refusal when the server lacks
  // POP4 folders that the config needs.
  void start_after_login();
  bool offers_pop4(std::string_view ability) const;
  // Ends the session politely: QUIT now (nothing that changes the server was sent), then
  // fail with this failure once QUIT is answered or the connection ends.
  void refuse(ClientFailure failure);
  void handle_sfld_reply(const StatusLine& status);
  void handle_lfld_reply(const StatusLine& status);
  void handle_lfld_line(std::string_view line);
  void handle_lfld_done();
  std::string move_command(uint32_t number) const;

  // client_session.cc
  void send(Command command, uint32_t number, std::string_view line, ResponseShape shape);
  void fail(FailureKind kind, std::string reason, std::string_view code = {},
            std::string_view needs = {});
  void handle_capa_done();
  void handle_listing_done();
  void flush_queued();
  // More than one command outstanding, or a message waiting for the next response.
  bool pipelined_now() const;
  // Reports the message whose end waits for the next response's status line, if any.
  void complete_pending_message();
  bool plaintext_password_ok() const;
  bool has_capability(std::string_view tag) const;
  std::vector<std::string_view> capability_args(std::string_view tag) const;
  // The arguments of a capability as one string ("nothing" when absent), for messages.
  std::string capability_args_text(std::string_view tag) const;

  ClientSessionConfig config_;
  ClientEvents& events_;
  Random& random_;
  LineEndNormalizer normalizer_;
  ClientResponseParser parser_;
  std::string scratch_;  // normalised input of one receive()
  std::string out_;      // commands not yet written; wiped as they are consumed

  Phase phase_ = Phase::kGreeting;
  std::deque<Sent> in_flight_;  // written, response not complete
  std::deque<Sent> queued_;     // asked for by the driver, not yet written
  bool quit_queued_ = false;
  bool quit_ok_ = false;
  uint32_t deletions_marked_ = 0;         // DELEs and MOVEs answered +OK
  std::optional<ClientFailure> refusal_;  // kRefused: reported once QUIT is answered
  ClientFailure failure_;

  // The greeting's line end decides PR-C-6's lenient mode (see receive()).
  bool greeting_line_end_seen_ = false;
  bool greeting_last_was_cr_ = false;

  bool tls_active_ = false;
  sasl::ChannelBindings bindings_;
  std::string apop_timestamp_;
  bool capa_known_ = false;
  // CAPA lines: tag (upper case) and the rest of the line.
  std::vector<std::pair<std::string, std::string>> capabilities_;
  bool pipelining_ = false;
  bool failed_while_pipelining_ = false;

  // SASL exchange in progress.
  sasl::ClientMechanismPtr mechanism_;
  std::string withheld_initial_response_;  // base64; sent at the first "+" (SPEC pitfall 20)
  bool initial_response_withheld_ = false;
  bool sasl_cancelled_ = false;
  ClientFailure cancel_failure_;

  // LFLD's answer (list_folders).
  std::vector<FolderListing> folders_;

  // The listing.
  bool uidl_supported_ = true;
  std::vector<std::pair<uint32_t, std::string>> uidls_;
  std::vector<ListedMessage> messages_;
  uint64_t retr_octets_ = 0;
  bool retr_body_started_ = false;  // the front RETR got its +OK
  // A retrieved message whose "." arrived while more commands were outstanding: reported once
  // the next response starts with a valid status line (wildduck#950).
  struct PendingEnd {
    uint32_t number;
    uint64_t octets;
  };
  std::optional<PendingEnd> pending_end_;
};

// Splits "a  b   c" into words (any run of spaces separates: PR-C-3).
std::vector<std::string_view> split_words(std::string_view text);
bool equals_ignore_case(std::string_view a, std::string_view b);

}  // namespace poplar::pop3
