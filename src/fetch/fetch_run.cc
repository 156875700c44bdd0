// One account's fetch; see fetch_run.h.
#include "fetch/fetch_run.h"

#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/random.h"
#include "fetch/delivery_undo.h"
#include "fetch/fetch_state.h"
#include "fetch/mda_writer.h"
#include "fetch/state_path.h"
#include "store/fs/file_system.h"
#include "store/maildir/maildir_writer.h"
#include "store/mbox/mbox_writer.h"
#include "tls/tls_context.h"

namespace poplar::fetch {
namespace {

constexpr int64_t kSecondsPerDay = 86'400;
// Group commit: delivered messages are made durable together (one fsync of the Maildir's new/
// and one of the state file per batch, beside each message's own fsync) before any of them is
// recorded or deleted. A crash loses at most a batch's records: duplicates, never mail.
constexpr size_t kGroupCommitMessages = 32;

store::fs::FileSystem& file_system(const FetchAccount& account) {
  return account.file_system != nullptr ? *account.file_system : store::fs::posix_file_system();
}

int exit_code_of_failure(pop3::FailureKind kind) {
  switch (kind) {
    case pop3::FailureKind::kTemporary:
      return kExTempFail;
    case pop3::FailureKind::kAuth:
      return kExNoPerm;
    case pop3::FailureKind::kPermanent:
      return kExUnavailable;
    case pop3::FailureKind::kProtocol:
      return kExProtocol;
    case pop3::FailureKind::kConfig:
      return kExConfig;
  }
  return kExProtocol;
}

// Local failures (delivery, state): temporary ones are retried, the rest need a person.
int exit_code_of_local(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kTemporary:
    case ErrorCode::kInUse:
      return kExTempFail;
    case ErrorCode::kInvalidInput:
      return kExConfig;
    default:
      return kExIoErr;
  }
}

// The driver: ClientSession events decide what to retrieve, deliver and delete.
class Runner final : public pop3::ClientEvents {
 public:
  // state: null when the run only lists folders.
  Runner(const FetchAccount& account, FetchState* state, int64_t now_unix,
         const ProgressFn& progress, bool allow_pipelining)
      : account_(account),
        state_(state),
        now_(now_unix),
        progress_(progress),
        allow_pipelining_(allow_pipelining) {}

  FetchSummary run();
  // The session failed with a protocol error while commands were pipelined: the server may
  // mis-order pipelined responses (PR-C-11), and a lock-step session may work.
  bool pipelining_broke() const { return pipelining_broke_; }

 private:
  void on_listing(std::span<const pop3::ListedMessage> messages) override;
  void on_message_begin(uint32_t number) override;
  void on_message_data(uint32_t number, std::string_view data) override;
  void on_message_end(uint32_t number, uint64_t octets) override;
  void on_message_error(uint32_t number, const pop3::ServerReply& reply) override;
  void on_deleted(uint32_t number, const pop3::ServerReply& reply) override;
  void on_moved(uint32_t number, const pop3::ServerReply& reply) override;
  void on_folders(std::span<const pop3::FolderListing> folders) override;

  Result<store::MessageWriterPtr> begin_delivery();
  // Makes the delivered-but-unrecorded messages durable, records them, and asks for their
  // DELE when the policy says so and the session can still send it. False when it failed (the
  // run is stopped).
  bool commit_delivered(bool session_open);
  void message_failed(const std::string& what, int exit_code);
  // What the policy removes from the server: MOVE to move_to when set, DELE otherwise. Either
  // only marks; the removal happens at QUIT.
  void remove_from_server(uint32_t number);
  // The session's failure for people; a missing POP4 ability names the options that needed it.
  std::string failure_text(const pop3::ClientFailure& failure) const;
  void stop(Status status, int exit_code);
  void warn_about_expire();
  const pop3::ListedMessage* listed(uint32_t number) const;
  store::fs::FileSystem& file_system() const { return fetch::file_system(account_); }

  const FetchAccount& account_;
  FetchState* state_;
  int64_t now_;
  const ProgressFn& progress_;
  pop3::ClientSession* session_ = nullptr;
  FetchSummary summary_;
  std::vector<pop3::ListedMessage> messages_;
  uint32_t to_fetch_ = 0;
  store::MessageWriterPtr writer_;
  Status writer_error_;
  std::unordered_set<uint32_t> delete_requested_;
  std::vector<uint32_t> deleted_ok_;
  std::vector<uint32_t> moved_ok_;
  int message_exit_code_ = kExOk;
  // Delivered (each file synced and linked) but not yet recorded: see commit_delivered().
  struct Delivered {
    uint32_t number;
    uint64_t octets;
    std::string where;  // the writer's commit(): the Maildir file, or "<mbox>@<offset>"
  };
  // Takes back the deliveries that could not be recorded (delivery_undo.h), so that the next
  // run does not deliver them a second time; says so in a warning when it cannot.
  void undo_unrecorded(std::span<const Delivered> unrecorded);
  std::vector<Delivered> delivered_;
  uint32_t delivered_count_ = 0;  // for progress
  uint64_t delivered_octets_ = 0;
  bool allow_pipelining_;
  bool pipelining_broke_ = false;
};

const pop3::ListedMessage* Runner::listed(uint32_t number) const {
  for (const auto& m : messages_) {
    if (m.number == number) {
      return &m;
    }
  }
  return nullptr;
}

void Runner::remove_from_server(uint32_t number) {
  if (account_.move_to.empty()) {
    session_->remove(number);
  } else {
    session_->move(number);
  }
  delete_requested_.insert(number);
}

std::string Runner::failure_text(const pop3::ClientFailure& failure) const {
  if (failure.needs.empty()) {
    return failure.reason;
  }
  std::string options;
  auto add = [&](bool given, const std::string& option) {
    if (given) {
      options += (options.empty() ? "" : ", ") + option;
    }
  };
  add(account_.list_folders, "--list-folders");
  add(!account_.folder.empty() && !pop3::is_inbox(account_.folder),
      "--folder " + pop3::folder_argument(account_.folder));
  add(!account_.move_to.empty(), "--move-to " + pop3::folder_argument(account_.move_to));
  return options + ": " + failure.reason;
}

void Runner::stop(Status status, int exit_code) {
  if (summary_.status.is_ok()) {
    summary_.status = std::move(status);
    summary_.exit_code = exit_code;
  }
}

void Runner::message_failed(const std::string& what, int exit_code) {
  ++summary_.errors;
  if (summary_.first_error.empty()) {
    summary_.first_error = what;
  }
  if (message_exit_code_ == kExOk || exit_code == kExTempFail) {
    message_exit_code_ = exit_code;
  }
}

// R2449-6.7-d: a server that announces EXPIRE may delete mail on its own schedule, whatever
// the keep policy says; the user should know before relying on it.
void Runner::warn_about_expire() {
  const std::optional<uint32_t> expire = session_->expire_days();
  if (!expire) {
    return;
  }
  const auto& policy = account_.policy;
  if (policy.keep == FetchPolicy::Keep::kKeep && *expire == 0) {
    summary_.warnings.push_back(
        "the server announces EXPIRE 0: it deletes messages once they are retrieved, so "
        "keeping them on the server cannot work");
  } else if (policy.keep == FetchPolicy::Keep::kKeepDays && policy.keep_days >= *expire) {
    summary_.warnings.push_back("--keep-days " + std::to_string(policy.keep_days) +
                                " is not shorter than the server's EXPIRE " +
                                std::to_string(*expire) + ": the server may delete messages first");
  }
}

void Runner::on_listing(std::span<const pop3::ListedMessage> messages) {
  warn_about_expire();
  messages_.assign(messages.begin(), messages.end());
  summary_.listed = static_cast<uint32_t>(messages_.size());
  const bool keeps = account_.policy.keep != FetchPolicy::Keep::kDelete;
  if (keeps && !session_->uidl_supported()) {
    // PR-C-15: without UIDL a kept message cannot be told from a new one.
    stop(Status::error(ErrorCode::kUnavailable,
                       "the server has no UIDL, so messages left on it cannot be recognised "
                       "next time; use --delete"),
         kExConfig);
    session_->finish();
    return;
  }
  for (const auto& m : messages_) {
    const bool known = !m.uidl.empty() && state_->first_seen(m.uidl).has_value();
    if (known) {
      // Delivered in an earlier run (kept then): delete it now if the policy says so.
      const bool expired = account_.policy.keep == FetchPolicy::Keep::kKeepDays &&
                           now_ - *state_->first_seen(m.uidl) >=
                               static_cast<int64_t>(account_.policy.keep_days) * kSecondsPerDay;
      if (expired || account_.policy.keep == FetchPolicy::Keep::kDelete) {
        remove_from_server(m.number);
      }
      continue;
    }
    if (account_.policy.max_octets && m.octets > *account_.policy.max_octets) {
      ++summary_.skipped;
      continue;
    }
    if (account_.policy.limit && to_fetch_ >= *account_.policy.limit) {
      ++summary_.skipped;
      continue;
    }
    ++to_fetch_;
    session_->retrieve(m.number);
  }
  if (progress_) {
    progress_(0, to_fetch_, 0);
  }
}

Result<store::MessageWriterPtr> Runner::begin_delivery() {
  switch (account_.target.kind) {
    case Target::Kind::kMaildir: {
      // run_fetch made the Maildir; new/ is synced once per batch (commit_delivered).
      store::maildir::DeliveryOptions options;
      options.create_directories = false;
      options.sync_new_directory = false;
      return store::maildir::begin_maildir_delivery(file_system(), account_.target.where, options);
    }
    case Target::Kind::kMbox:
      return store::mbox::begin_mbox_delivery(file_system(), account_.target.where);
    case Target::Kind::kMda:
      return begin_mda_delivery(account_.target.where);
  }
  return Status::invalid_input("unknown target");
}

void Runner::on_message_begin(uint32_t) {
  auto writer = begin_delivery();
  writer_error_ = writer.status();
  writer_ = writer.is_ok() ? std::move(writer).value() : nullptr;
}

void Runner::on_message_data(uint32_t, std::string_view data) {
  if (writer_ && writer_error_.is_ok()) {
    writer_error_ = writer_->write(data);
  }
}

void Runner::on_message_end(uint32_t number, uint64_t octets) {
  Status delivered = writer_error_;
  std::string where;
  if (delivered.is_ok() && writer_) {
    Result<std::string> committed = writer_->commit();
    delivered = committed.status();
    if (committed.is_ok()) {
      where = *committed;
    }
  }
  writer_.reset();  // a writer that did not commit cleans up after itself
  if (!delivered.is_ok()) {
    message_failed("message " + std::to_string(number) + ": " + delivered.to_string(),
                   exit_code_of_local(delivered));
    return;
  }
  // In the target; it counts as fetched once commit_delivered() has made it durable.
  delivered_.push_back({number, octets, std::move(where)});
  ++delivered_count_;
  delivered_octets_ += octets;
  if (progress_) {
    progress_(delivered_count_, to_fetch_, delivered_octets_);
  }
  if (delivered_.size() >= kGroupCommitMessages) {
    commit_delivered(/*session_open=*/true);
  }
}

bool Runner::commit_delivered(bool session_open) {
  if (delivered_.empty()) {
    return true;
  }
  std::vector<Delivered> batch = std::move(delivered_);
  delivered_.clear();
  // 1. The deliveries: each file was synced before it was linked; the links become durable
  // with one sync of new/.
  if (account_.target.kind == Target::Kind::kMaildir) {
    Status synced = store::maildir::sync_new_directory(file_system(), account_.target.where);
    if (!synced.is_ok()) {
      // Not durable, so not recorded, and taken back out: fetched again next time.
      undo_unrecorded(batch);
      stop(synced, exit_code_of_local(synced));
      if (session_open) {
        session_->finish();
      }
      return false;
    }
  }
  // 2. The records, after the deliveries they stand for, with one fsync.
  Status recorded;
  size_t appended = 0;  // batch[0, appended) have their lines in the state file
  for (const Delivered& d : batch) {
    const pop3::ListedMessage* m = listed(d.number);
    if (m != nullptr && !m->uidl.empty()) {
      recorded = state_->append(m->uidl, now_);
      if (!recorded.is_ok()) {
        break;
      }
    }
    ++appended;
  }
  if (recorded.is_ok()) {
    recorded = state_->sync();
  }
  if (!recorded.is_ok()) {
    // Stop before deleting anything whose record could not be written. A message whose line
    // never reached the state file would come again next run: take it back out of the target.
    // One whose line was written but not synced stays: the line is most likely in the file
    // (then the next run knows it), and taking the message out could lose it if it is.
    undo_unrecorded(std::span<const Delivered>(batch).subspan(appended));
    stop(recorded, exit_code_of_local(recorded));
    if (session_open) {
      session_->finish();
    }
    return false;
  }
  // 3. Only now may the server delete them (and even then only at QUIT).
  const bool delete_now =
      account_.policy.keep == FetchPolicy::Keep::kDelete ||
      (account_.policy.keep == FetchPolicy::Keep::kKeepDays && account_.policy.keep_days == 0);
  for (const Delivered& d : batch) {
    ++summary_.fetched;
    summary_.fetched_octets += d.octets;
    if (delete_now && session_open) {
      remove_from_server(d.number);
    }
  }
  return true;
}

void Runner::undo_unrecorded(std::span<const Delivered> unrecorded) {
  if (unrecorded.empty()) {
    return;
  }
  auto warn = [&](const Delivered& d, const Status& why) {
    summary_.warnings.push_back("message " + std::to_string(d.number) + " was delivered to " +
                                d.where + " but could not be recorded, and the delivery could " +
                                "not be undone (" + why.to_string() +
                                "): it will be fetched again");
  };
  switch (account_.target.kind) {
    case Target::Kind::kMaildir:
      for (const Delivered& d : unrecorded) {
        if (Status undone = undo_maildir_delivery(file_system(), d.where); !undone.is_ok()) {
          warn(d, undone);
        }
      }
      return;
    case Target::Kind::kMbox: {
      // This run's messages are appended in order, so the unrecorded ones are its last.
      Result<uint64_t> offset = mbox_offset_of(unrecorded.front().where);
      Status undone = offset.status();
      if (undone.is_ok()) {
        undone =
            undo_mbox_deliveries(file_system(), account_.target.where, *offset, unrecorded.size());
      }
      if (!undone.is_ok()) {
        for (const Delivered& d : unrecorded) {
          warn(d, undone);
        }
      }
      return;
    }
    case Target::Kind::kMda:
      // The command took the message; nothing here can take it back.
      for (const Delivered& d : unrecorded) {
        warn(d, Status::error(ErrorCode::kUnavailable, "an mda: target cannot take it back"));
      }
      return;
  }
}

void Runner::on_message_error(uint32_t number, const pop3::ServerReply& reply) {
  writer_.reset();
  message_failed("message " + std::to_string(number) + ": the server said " +
                     pop3::sanitize_server_text(reply.text),
                 kExTempFail);
}

void Runner::on_deleted(uint32_t number, const pop3::ServerReply& reply) {
  if (reply.ok) {
    deleted_ok_.push_back(number);
  } else {
    message_failed("DELE " + std::to_string(number) + ": the server said " +
                       pop3::sanitize_server_text(reply.text),
                   kExTempFail);
  }
}

void Runner::on_moved(uint32_t number, const pop3::ServerReply& reply) {
  if (reply.ok) {
    moved_ok_.push_back(number);
  } else {
    message_failed("MOVE " + std::to_string(number) + " " +
                       pop3::folder_argument(account_.move_to) + ": the server said " +
                       pop3::sanitize_server_text(reply.text),
                   kExTempFail);
  }
}

void Runner::on_folders(std::span<const pop3::FolderListing> folders) {
  summary_.folders.assign(folders.begin(), folders.end());
}

FetchSummary Runner::run() {
  std::vector<Endpoint> endpoints = account_.endpoints;
  if (endpoints.empty()) {
    endpoints.push_back({account_.url.host, account_.url.port, account_.url.tls});
  }
  Result<std::unique_ptr<ServerStream>> stream = Status::invalid_input("no server to connect to");
  Endpoint endpoint;
  for (const Endpoint& e : endpoints) {
    stream = ServerStream::connect(e.host, e.port, account_.timeouts);
    if (stream.is_ok()) {
      endpoint = e;
      break;
    }
  }
  if (!stream.is_ok()) {
    stop(stream.status(), kExTempFail);
    return summary_;
  }
  tls::SslCtxPtr tls_ctx;
  auto start_tls = [&]() -> Status {
    if (!tls_ctx) {
      auto made = account_.fingerprint_sha256.empty() ? tls::make_client_ctx(account_.ca_file)
                                                      : tls::make_unverified_client_ctx();
      if (!made.is_ok()) {
        return made.status();
      }
      tls_ctx = std::move(made).value();
    }
    return (*stream)->start_tls(tls_ctx.get(), account_.url.host, account_.fingerprint_sha256);
  };
  auto bindings_of = [&] {
    sasl::ChannelBindings b;
    b.tls_active = true;
    b.tls_exporter = (*stream)->tls_info().tls_exporter;
    b.tls_server_end_point = (*stream)->tls_info().tls_server_end_point;
    return b;
  };

  pop3::ClientSessionConfig config;
  config.user = account_.url.user;
  config.password = Secret(account_.password.view());
  switch (account_.url.auth.kind) {
    case AuthChoice::Kind::kAny:
      config.auth = pop3::AuthChoice::kAny;
      break;
    case AuthChoice::Kind::kApop:
      config.auth = pop3::AuthChoice::kApop;
      break;
    case AuthChoice::Kind::kMechanism:
      config.auth = pop3::AuthChoice::kSasl;
      config.sasl_mechanism = account_.url.auth.mechanism;
      break;
  }
  const bool implicit = endpoint.tls == PopUrl::TlsMode::kImplicit;
  config.tls = implicit                      ? pop3::TlsRequirement::kImplicit
               : account_.insecure_plaintext ? pop3::TlsRequirement::kNone
                                             : pop3::TlsRequirement::kStartTls;
  config.allow_plaintext_password = account_.insecure_plaintext;
  config.allow_pipelining = allow_pipelining_;
  config.folder = account_.folder;
  config.move_to = account_.move_to;
  config.list_folders = account_.list_folders;

  pop3::ClientSession session(std::move(config), *this, SystemRandom::instance());
  session_ = &session;
  if (implicit) {
    if (Status s = start_tls(); !s.is_ok()) {
      stop(s, s.code() == ErrorCode::kPermanent ? kExProtocol : kExTempFail);
      return summary_;
    }
    session.on_tls_started(bindings_of());
  }
  bool quit_queued = false;
  char buffer[64 * 1024];
  for (;;) {
    switch (session.next_action()) {
      case pop3::ClientAction::kWrite: {
        std::string_view out = session.pending_output();
        if (Status s = (*stream)->write_all(out); !s.is_ok()) {
          session.on_eof();
          stop(s, kExTempFail);
          break;
        }
        session.consume_output(out.size());
        break;
      }
      case pop3::ClientAction::kRead: {
        Result<size_t> n = (*stream)->read_some(buffer);
        if (!n.is_ok() || *n == 0) {
          if (!n.is_ok()) {
            stop(n.status(), kExTempFail);
          }
          session.on_eof();
          break;
        }
        session.receive(std::string_view(buffer, *n));
        break;
      }
      case pop3::ClientAction::kStartTls:
        if (Status s = start_tls(); !s.is_ok()) {
          stop(s, s.code() == ErrorCode::kPermanent ? kExProtocol : kExTempFail);
          session.on_eof();
          break;
        }
        session.on_tls_started(bindings_of());
        break;
      case pop3::ClientAction::kIdle:
        if (!delivered_.empty()) {
          // The last batch: durable and recorded before QUIT, and its DELEs sent first.
          commit_delivered(/*session_open=*/true);
          break;
        }
        if (!quit_queued) {
          quit_queued = true;
          session.finish();
        }
        break;
      case pop3::ClientAction::kClose: {
        writer_.reset();
        // Messages delivered before the session ended still count (no DELE can follow).
        commit_delivered(/*session_open=*/false);
        if (session.failed()) {
          const pop3::ClientFailure& f = session.failure();
          pipelining_broke_ =
              f.kind == pop3::FailureKind::kProtocol && session.failed_while_pipelining();
          stop(Status::error(ErrorCode::kUnavailable, failure_text(f)),
               exit_code_of_failure(f.kind));
        }
        if (session.quit_ok()) {
          // QUIT's +OK: the server removed what was marked; forget those UIDLs and any the
          // server no longer lists (PR-C-2).
          summary_.deleted = static_cast<uint32_t>(deleted_ok_.size());
          summary_.moved = static_cast<uint32_t>(moved_ok_.size());
          std::unordered_set<std::string> on_server;
          std::unordered_set<uint32_t> gone(deleted_ok_.begin(), deleted_ok_.end());
          gone.insert(moved_ok_.begin(), moved_ok_.end());
          for (const auto& m : messages_) {
            if (!m.uidl.empty() && gone.count(m.number) == 0) {
              on_server.insert(m.uidl);
            }
          }
          if (state_ != nullptr && (!messages_.empty() || session.logged_in())) {
            state_->forget_all_except(
                [&](const std::string& uidl) { return on_server.count(uidl) != 0; });
          }
        }
        if (summary_.status.is_ok() && summary_.errors > 0) {
          summary_.status = Status::error(ErrorCode::kTemporary, summary_.first_error);
          summary_.exit_code = message_exit_code_;
        }
        session_ = nullptr;
        return summary_;
      }
    }
  }
}

}  // namespace

Result<Target> parse_target(std::string_view text) {
  struct Prefix {
    std::string_view name;
    Target::Kind kind;
  };
  for (const Prefix& p :
       {Prefix{"maildir:", Target::Kind::kMaildir}, Prefix{"mbox:", Target::Kind::kMbox},
        Prefix{"mda:", Target::Kind::kMda}}) {
    if (text.substr(0, p.name.size()) == p.name) {
      std::string where(text.substr(p.name.size()));
      if (where.empty()) {
        return Status::invalid_input("--to " + std::string(text) + ": nothing after \"" +
                                     std::string(p.name) + "\"");
      }
      return Target{p.kind, std::move(where)};
    }
  }
  return Status::invalid_input("--to " + std::string(text) +
                               ": expected maildir:DIR, mbox:FILE or mda:COMMAND");
}

Status check_folder_options(const FetchAccount& account) {
  if (!account.folder.empty()) {
    if (Status s = pop3::check_folder_name(account.folder); !s.is_ok()) {
      return Status::invalid_input("--folder " + pop3::sanitize_server_text(account.folder) + ": " +
                                   s.message());
    }
  }
  if (account.move_to.empty()) {
    return Status::ok();
  }
  const std::string option = "--move-to " + pop3::sanitize_server_text(account.move_to);
  if (Status s = pop3::check_folder_name(account.move_to); !s.is_ok()) {
    return Status::invalid_input(option + ": " + s.message());
  }
  const bool fetched_is_inbox = account.folder.empty() || pop3::is_inbox(account.folder);
  if (fetched_is_inbox ? pop3::is_inbox(account.move_to) : account.move_to == account.folder) {
    return Status::invalid_input(
        option + ": that is the folder being fetched (" +
        (fetched_is_inbox ? std::string("INBOX") : "--folder " + account.folder) +
        "); move messages to another folder");
  }
  if (account.policy.keep == FetchPolicy::Keep::kKeep && !account.list_folders) {
    return Status::invalid_input(option +
                                 ": messages are moved instead of deleted, and --keep deletes "
                                 "nothing; add --delete or --keep-days N (in an account file: "
                                 "keep = false or keep_days)");
  }
  return Status::ok();
}

FetchSummary run_fetch(const FetchAccount& account, int64_t now_unix, const ProgressFn& progress) {
  if (Status checked = check_folder_options(account); !checked.is_ok()) {
    FetchSummary refused;
    refused.status = checked;
    refused.exit_code = kExConfig;
    return refused;
  }
  if (account.list_folders) {
    // Nothing is fetched, so no state and no target; lock-step is as good as pipelining here.
    Runner lister(account, nullptr, now_unix, progress, /*allow_pipelining=*/false);
    return lister.run();
  }
  FetchSummary failed;
  std::string path = account.state_path;
  if (path.empty()) {
    auto found = default_state_path(account.url, account.folder);
    if (!found.is_ok()) {
      failed.status = found.status();
      failed.exit_code = kExConfig;
      return failed;
    }
    path = *found;
  }
  // Each POP4 folder has its own state (state_path.h); INBOX keeps the URL's.
  auto state =
      FetchState::open(file_system(account), path, fetch_state_key(account.url, account.folder));
  if (!state.is_ok()) {
    // FetchState's messages name the file they failed on, which may be a parent directory
    // it had to create: say which state file that was for.
    const Status& why = state.status();
    failed.status = why.message().find(path) == std::string::npos
                        ? Status::error(why.code(), "fetch state " + path + ": " + why.message())
                        : why;
    failed.exit_code = exit_code_of_local(why);
    return failed;
  }
  if (account.target.kind == Target::Kind::kMaildir) {
    // Made once per run (each delivery then skips the mkdirs), and emptied of the leftovers
    // of deliveries that died (36 h and older).
    if (Status made = store::maildir::make_maildir(file_system(account), account.target.where);
        !made.is_ok()) {
      failed.status =
          Status::error(made.code(), "maildir " + account.target.where + ": " + made.message());
      failed.exit_code = exit_code_of_local(made);
      return failed;
    }
    (void)store::maildir::clean_stale_tmp_files(file_system(account), account.target.where);
  }
  Runner runner(account, &*state, now_unix, progress, /*allow_pipelining=*/true);
  FetchSummary summary = runner.run();
  if (runner.pipelining_broke()) {
    // PR-C-11: some servers mis-order or merge responses to pipelined commands (wildduck#950).
    // What was delivered is recorded, so a second, lock-step session fetches only the rest.
    Runner lock_step(account, &*state, now_unix, progress, /*allow_pipelining=*/false);
    FetchSummary second = lock_step.run();
    second.warnings.push_back("the server broke pipelining (" + summary.status.message() +
                              "); fetched again one command at a time");
    second.fetched += summary.fetched;
    second.fetched_octets += summary.fetched_octets;
    second.errors += summary.errors;
    summary = std::move(second);
  }
  if (Status closed = state->close(); !closed.is_ok() && summary.status.is_ok()) {
    summary.status = closed;
    summary.exit_code = exit_code_of_local(closed);
  }
  return summary;
}

}  // namespace poplar::fetch
