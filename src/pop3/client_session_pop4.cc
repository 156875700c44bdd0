// ClientSession: the POP4 folder steps (the Poplar POP4 profile, docs/pop4.md). After the CAPA
// that follows login: SFLD of the configured folder before the listing, or LFLD instead of it;
// MOVE's command line; and the polite end of a session that cannot do what it was configured
// for (QUIT before anything that changes the server, then the failure). See client_session.h.
//
// Must never: send SFLD, LFLD or MOVE to a server whose CAPA does not offer X-POP4 FOLDERS, or
// send anything but QUIT after a refusal.
//
// Thread-safety: see client_session.h.
#include <utility>

#include "pop3/client_session.h"
#include "pop3/client_session_folders.h"
#include "pop3/client_session_impl.h"

namespace poplar::pop3 {
namespace {

// LFLD lines kept at most: far more than any real account has, while a hostile server cannot
// make the client hold an endless list.
constexpr size_t kMaxFolders = 100'000;

// "[SYS/TEMP] ..." → kTemporary, "[SYS/PERM]" → kPermanent, anything else → `otherwise`.
FailureKind classify(std::string_view code, FailureKind otherwise) {
  FailureKind kind = classify_login_error(code);
  return kind == FailureKind::kAuth ? otherwise : kind;
}

}  // namespace

bool ClientSession::Impl::offers_pop4(std::string_view ability) const {
  for (std::string_view word : capability_args("X-POP4")) {
    if (equals_ignore_case(word, ability)) {
      return true;
    }
  }
  return false;
}

void ClientSession::Impl::refuse(ClientFailure failure) {
  refusal_ = std::move(failure);
  queued_.clear();
  phase_ = Phase::kRefused;
  send(Command::kQuit, 0, "QUIT", ResponseShape::kStatusOnly);
}

void ClientSession::Impl::start_after_login() {
  const bool select = !config_.folder.empty() && !is_inbox(config_.folder);
  if ((select || config_.list_folders || !config_.move_to.empty()) && !offers_pop4("FOLDERS")) {
    refuse({FailureKind::kConfig,
            "the server does not offer POP4 folders (its CAPA after login has no \"X-POP4 "
            "FOLDERS\"); nothing was changed on the server",
            "", "FOLDERS"});
    return;
  }
  for (const std::string* name : {&config_.folder, &config_.move_to}) {
    if (!name->empty()) {
      if (Status checked = check_folder_name(*name); !checked.is_ok()) {
        refuse({FailureKind::kConfig,
                "folder \"" + sanitize_server_text(*name) + "\": " + checked.message(), "", ""});
        return;
      }
    }
  }
  if (config_.list_folders) {
    phase_ = Phase::kListFolders;
    send(Command::kLfld, 0, "LFLD", ResponseShape::kLines);
    return;
  }
  if (select) {
    phase_ = Phase::kSelectFolder;
    send(Command::kSfld, 0, "SFLD " + folder_argument(config_.folder), ResponseShape::kStatusOnly);
    return;
  }
  phase_ = Phase::kStat;
  send(Command::kStat, 0, "STAT", ResponseShape::kStatusOnly);
}

void ClientSession::Impl::handle_sfld_reply(const StatusLine& status) {
  if (!status.ok()) {
    // Most likely no such folder: a configuration the user must fix, not a passing trouble.
    refuse({classify(status.code, FailureKind::kConfig),
            "the server refused to select folder \"" + sanitize_server_text(config_.folder) +
                "\" (SFLD): " + sanitize_server_text(status.text),
            std::string(status.code), ""});
    return;
  }
  // "+OK messages octets": the listing that follows says the same in detail.
  phase_ = Phase::kStat;
  send(Command::kStat, 0, "STAT", ResponseShape::kStatusOnly);
}

void ClientSession::Impl::handle_lfld_reply(const StatusLine& status) {
  if (!status.ok()) {
    refuse({classify(status.code, FailureKind::kProtocol),
            "the server offers POP4 folders but refused LFLD: " + sanitize_server_text(status.text),
            std::string(status.code), ""});
  }
}

void ClientSession::Impl::handle_lfld_line(std::string_view line) {
  if (folders_.size() >= kMaxFolders) {
    fail(FailureKind::kProtocol,
         "the server listed more than " + std::to_string(kMaxFolders) + " folders");
    return;
  }
  Result<FolderListing> folder = parse_folder_listing(line);
  if (!folder.is_ok()) {
    fail(FailureKind::kProtocol, folder.status().message());
    return;
  }
  folders_.push_back(std::move(folder).value());
}

void ClientSession::Impl::handle_lfld_done() {
  // Nothing to list or fetch: idle, and the driver says QUIT.
  phase_ = Phase::kTransaction;
  events_.on_folders(folders_);
  flush_queued();
}

std::string ClientSession::Impl::move_command(uint32_t number) const {
  return "MOVE " + std::to_string(number) + " " + folder_argument(config_.move_to);
}

}  // namespace poplar::pop3
