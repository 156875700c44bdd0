// Maildir delivery: tmp/ → fsync → link into new/ → fsync new/; see maildir_writer.h.
//
// Must never: overwrite a file, leave a partial file in new/, or make a system call except
// through the FileSystem seam.
//
// Thread-safety: a writer is used by one thread at a time; the per-process delivery counter is
// atomic.
#include "store/maildir/maildir_writer.h"

#include <atomic>
#include <memory>
#include <utility>

#include "store/crlf_size.h"
#include "store/fs/process_identity.h"
#include "store/lf_line_ends.h"
#include "store/maildir/file_name.h"

namespace poplar::store::maildir {
namespace {

// The converted message is handed to the file in blocks of this size: few write(2) calls per
// message, and a bounded amount of it in memory.
constexpr size_t kWriteBlockBytes = 64 * 1024;

// Maildir permissions: private to the mail user (qmail, Dovecot).
constexpr uint32_t kDirectoryMode = 0700;
constexpr uint32_t kMessageMode = 0600;

// Names tried in tmp/ before giving up. Another writer can only hold the same name when the
// clock, the pid and the counter all repeat (a clock stepped back and a recycled pid), so one
// retry with the next counter value almost surely succeeds.
constexpr int kNameAttempts = 4;

// Q<n>: deliveries started by this process, so two in the same microsecond differ.
std::atomic<uint64_t> delivery_counter{0};

std::string join(const std::string& dir, std::string_view name) {
  std::string path;
  path.reserve(dir.size() + 1 + name.size());
  path += dir;
  path += '/';
  path += name;
  return path;
}

std::string parent_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? std::string("/") : path.substr(0, slash);
}

std::string unique_base(int64_t now_ns, uint64_t pid, uint64_t counter,
                        const std::string& encoded_host) {
  const int64_t secs = now_ns / 1'000'000'000;
  const int64_t usecs = (now_ns % 1'000'000'000) / 1000;
  std::string base = std::to_string(secs);
  base += ".M";
  base += std::to_string(usecs);
  base += 'P';
  base += std::to_string(pid);
  base += 'Q';
  base += std::to_string(counter);
  base += '.';
  base += encoded_host;
  return base;
}

class MaildirWriter final : public MessageWriter {
 public:
  MaildirWriter(fs::FileSystem& fs, std::string root, std::string base, fs::WritableFilePtr file,
                bool sync_new, std::string info_letters)
      : fs_(fs),
        root_(std::move(root)),
        base_(std::move(base)),
        sync_new_(sync_new),
        info_letters_(std::move(info_letters)),
        tmp_path_(join(root_ + "/tmp", base_)),
        file_(std::move(file)) {}

  MaildirWriter(const MaildirWriter&) = delete;
  MaildirWriter& operator=(const MaildirWriter&) = delete;

  ~MaildirWriter() override {
    if (!committed_) {
      abandon();
    }
  }

  Status write(std::string_view wire_chunk) override {
    if (!usable()) {
      return status_;
    }
    converter_.convert(wire_chunk, &buffer_);
    if (buffer_.size() >= kWriteBlockBytes) {
      flush();
    }
    return status_;
  }

  Result<std::string> commit() override {
    if (!usable()) {
      return status_;
    }
    converter_.finish(&buffer_);
    flush();
    if (status_.is_ok()) {
      fail_if(file_->sync());
    }
    if (status_.is_ok()) {
      fail_if(file_->close());
      file_.reset();
    }
    if (!status_.is_ok()) {
      abandon();
      return status_;
    }
    std::string name = base_;
    name += ",S=";
    name += std::to_string(converter_.output_octets());
    name += ",W=";
    name += std::to_string(wire_size_.size_octets());
    if (!info_letters_.empty()) {
      name += ":2,";
      name += info_letters_;
    }
    // new/ for a delivery; cur/ for a message that comes with its flags (POP4 STOR).
    const std::string new_dir = root_ + (info_letters_.empty() ? "/new" : "/cur");
    std::string final_path = join(new_dir, name);
    fail_if(move_into_new(final_path));
    if (!status_.is_ok()) {
      abandon();
      return status_;
    }
    // The name is durable only once new/ itself is synced. Without that the message must not
    // count as delivered, so take it back out: the caller retries, and no duplicate stays.
    // (With sync_new_directory off, the caller syncs new/ once for a batch instead.)
    if (Status synced = sync_new_ ? fs_.sync_directory(new_dir) : Status::ok(); !synced.is_ok()) {
      (void)fs_.unlink(final_path);
      fail_if(std::move(synced));
      abandon();
      return status_;
    }
    committed_ = true;
    if (tmp_exists_) {
      // A leftover tmp/ file is harmless (readers ignore tmp/, cleaners remove it).
      (void)fs_.unlink(tmp_path_);
      tmp_exists_ = false;
    }
    return final_path;
  }

  uint64_t received_octets() const override { return converter_.input_octets(); }
  uint64_t stored_octets() const override { return converter_.output_octets(); }

 private:
  bool usable() {
    if (committed_ && status_.is_ok()) {
      status_ = Status::invalid_input("maildir delivery " + tmp_path_ + ": already committed");
    }
    return status_.is_ok() && !committed_;
  }

  void fail_if(Status status) {
    if (status_.is_ok() && !status.is_ok()) {
      status_ = std::move(status);
    }
  }

  void flush() {
    if (buffer_.empty() || !status_.is_ok()) {
      return;
    }
    wire_size_.update(buffer_);
    fail_if(file_->append(buffer_));
    buffer_.clear();
  }

  // Links tmp/<base> to new/<name>: never replaces a file. Where the file system has no hard
  // links, renames instead, after checking that nothing has the name (the name holds this
  // delivery's unique base, so only a writer with the same clock, pid and counter could).
  Status move_into_new(const std::string& final_path) {
    Status linked = fs_.link_file(tmp_path_, final_path);
    if (linked.code() != ErrorCode::kUnavailable) {
      return linked;
    }
    Result<fs::FileInfo> existing = fs_.stat(final_path);
    if (existing.is_ok()) {
      return Status::in_use("maildir delivery: " + final_path + " already exists");
    }
    if (existing.status().code() != ErrorCode::kNotFound) {
      return existing.status();
    }
    Status renamed = fs_.rename(tmp_path_, final_path);
    if (renamed.is_ok()) {
      tmp_exists_ = false;
    }
    return renamed;
  }

  // Leaves nothing of an unfinished delivery: the open file is closed and tmp/ emptied.
  void abandon() {
    if (file_ != nullptr) {
      (void)file_->close();
      file_.reset();
    }
    if (tmp_exists_) {
      (void)fs_.unlink(tmp_path_);
      tmp_exists_ = false;
    }
    if (status_.is_ok()) {
      status_ = Status::invalid_input("maildir delivery " + tmp_path_ + ": abandoned");
    }
  }

  fs::FileSystem& fs_;
  const std::string root_;
  const std::string base_;
  const bool sync_new_;
  const std::string info_letters_;
  const std::string tmp_path_;
  fs::WritableFilePtr file_;
  bool tmp_exists_ = true;
  bool committed_ = false;
  Status status_;
  CrlfToLf converter_;
  CrlfSizeCounter wire_size_;
  std::string buffer_;
};

// mkdir of each directory of the Maildir; syncs the directories that received a new entry, so
// that a message delivered into a new Maildir does not vanish with its directory in a crash.
Status make_maildir_directories(fs::FileSystem& fs, const std::string& root) {
  Result<bool> made_root = fs.make_directory(root, kDirectoryMode);
  if (!made_root.is_ok()) {
    return made_root.status();
  }
  bool made_any = false;
  for (const char* sub : {"tmp", "new", "cur"}) {
    Result<bool> made = fs.make_directory(join(root, sub), kDirectoryMode);
    if (!made.is_ok()) {
      return made.status();
    }
    made_any = made_any || *made;
  }
  if (*made_root) {
    if (Status synced = fs.sync_directory(parent_of(root)); !synced.is_ok()) {
      return synced;
    }
  }
  if (made_any) {
    return fs.sync_directory(root);
  }
  return Status::ok();
}

}  // namespace

std::string encode_host_for_maildir(std::string_view host) {
  if (host.empty()) {
    return "localhost";
  }
  std::string out;
  out.reserve(host.size());
  for (char c : host) {
    auto octet = static_cast<unsigned char>(c);
    if (octet < 0x21 || octet > 0x7E || c == '/' || c == ':' || c == ',' || c == '\\') {
      out += '\\';
      out += static_cast<char>('0' + ((octet >> 6) & 7));
      out += static_cast<char>('0' + ((octet >> 3) & 7));
      out += static_cast<char>('0' + (octet & 7));
    } else {
      out += c;
    }
  }
  return out;
}

Status make_maildir(fs::FileSystem& fs, const std::string& maildir_root) {
  return make_maildir_directories(fs, maildir_root);
}

Status sync_new_directory(fs::FileSystem& fs, const std::string& maildir_root) {
  return fs.sync_directory(maildir_root + "/new");
}

Result<size_t> clean_stale_tmp_files(fs::FileSystem& fs, const std::string& maildir_root) {
  const std::string tmp_dir = maildir_root + "/tmp";
  fs::DirectoryListing listing;
  if (Status listed = fs.list_directory(tmp_dir, &listing); !listed.is_ok()) {
    return listed;
  }
  const int64_t now = fs.now_ns();
  size_t removed = 0;
  for (size_t i = 0; i < listing.size(); ++i) {
    std::string_view name = listing.name(i);
    fs::FileType type = listing.type(i);
    if (is_ignored_name(name) ||
        (type != fs::FileType::kRegular && type != fs::FileType::kUnknown)) {
      continue;
    }
    const std::string path = join(tmp_dir, name);
    Result<fs::FileInfo> info = fs.stat(path);
    if (!info.is_ok() || info->type != fs::FileType::kRegular ||
        now - info->mtime_ns <= kStaleTmpFileNs) {
      continue;
    }
    if (fs.unlink(path).is_ok()) {
      ++removed;
    }
  }
  return removed;
}

Result<MessageWriterPtr> begin_maildir_delivery(fs::FileSystem& fs, std::string maildir_root,
                                                DeliveryOptions options) {
  while (maildir_root.size() > 1 && maildir_root.back() == '/') {
    maildir_root.pop_back();
  }
  if (maildir_root.empty()) {
    return Status::invalid_input("maildir delivery: empty Maildir path");
  }
  for (char c : options.info_letters) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
      return Status::invalid_input("maildir delivery: info letters must be letters");
    }
  }
  if (options.create_directories) {
    if (Status made = make_maildir_directories(fs, maildir_root); !made.is_ok()) {
      return made;
    }
  }
  const std::string host =
      encode_host_for_maildir(options.hostname.empty() ? fs::host_name() : options.hostname);
  const uint64_t pid = options.pid != 0 ? options.pid : fs::process_id();
  const std::string tmp_dir = maildir_root + "/tmp";
  Status last;
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    std::string base = unique_base(fs.now_ns(), pid, ++delivery_counter, host);
    Result<fs::WritableFilePtr> file = fs.create_new_file(join(tmp_dir, base), kMessageMode);
    if (file.is_ok()) {
      return MessageWriterPtr(std::make_unique<MaildirWriter>(
          fs, maildir_root, std::move(base), std::move(file).value(), options.sync_new_directory,
          options.info_letters));
    }
    last = file.status();
    if (last.code() != ErrorCode::kInUse) {
      break;
    }
  }
  return last;
}

}  // namespace poplar::store::maildir
