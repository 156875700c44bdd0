#include "admin/passwd_file_editor.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>
#include <unordered_set>

#include "auth/passwd_file.h"
#include "base/secret.h"

namespace poplar::admin {
namespace {

// Retry interval while another editor holds the lock.
constexpr std::chrono::milliseconds kLockRetryInterval{50};
// Mode of a passwd-file created from scratch: it holds password hashes (or cleartext).
constexpr mode_t kNewFileMode = 0600;

// errno → the codes this module promises. ENOENT is kUnavailable here, because kNotFound means
// "no such user" to the callers.
Status os_error(int err, const std::string& what) {
  Status status = Status::from_errno(err, what);
  if (status.code() == ErrorCode::kNotFound) {
    return Status::error(ErrorCode::kUnavailable, status.message());
  }
  return status;
}

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }
  // Closes now and reports the error close() may return (deferred write errors on some
  // file systems).
  int close_checked() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool has_control_or_space(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) {
      return true;
    }
  }
  return false;
}

bool has_control(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return true;
    }
  }
  return false;
}

// The stored-password field must stay one field on one line.
Status validate_hash(std::string_view hash) {
  if (hash.empty()) {
    return Status::invalid_input("empty password hash");
  }
  if (hash.find(':') != std::string_view::npos || has_control(hash)) {
    return Status::invalid_input("the password hash contains ':' or a control character");
  }
  return Status::ok();
}

// The user name of a passwd-file line, or nullopt for comments and blank lines.
std::optional<std::string_view> line_user(std::string_view line) {
  if (auth::is_passwd_comment_or_blank(line)) {
    return std::nullopt;
  }
  return line.substr(0, line.find(':'));
}

struct FileContent {
  bool exists = false;
  struct stat st {};
  std::string text;
};

// Reads the whole file; a missing file is not an error here (exists = false).
Result<FileContent> read_file(const std::string& path) {
  FileContent content;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return content;
    }
    return os_error(errno, "open " + path);
  }
  if (::fstat(fd.get(), &content.st) != 0) {
    return os_error(errno, "fstat " + path);
  }
  if (!S_ISREG(content.st.st_mode)) {
    return Status::error(ErrorCode::kInvalidInput, path + " is not a regular file");
  }
  content.exists = true;
  char chunk[16384];
  while (true) {
    ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      secure_wipe(content.text.data(), content.text.size());
      return os_error(errno, "read " + path);
    }
    if (n == 0) {
      break;
    }
    content.text.append(chunk, static_cast<size_t>(n));
  }
  secure_wipe(chunk, sizeof chunk);
  return content;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

void wipe_lines(std::vector<std::string>& lines) {
  for (std::string& line : lines) {
    secure_wipe(line.data(), line.size());
  }
}

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return os_error(errno, "write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Writes `text` to PATH.tmp with the old file's mode and owner, syncs it, renames it over
// PATH and syncs the directory.
Status replace_file(const std::string& path, const FileContent& old, std::string_view text) {
  std::string tmp = path + ".tmp";
  // A leftover from an editor that crashed; the lock guarantees nobody is writing it now.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
    return os_error(errno, "unlink " + tmp);
  }
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
               kNewFileMode));
  if (fd.get() < 0) {
    return os_error(errno, "create " + tmp);
  }
  auto fail = [&tmp](Status status) {
    ::unlink(tmp.c_str());
    return status;
  };
  // fchmod, not the open() mode: the umask must not loosen or tighten what the admin chose.
  mode_t mode = old.exists ? (old.st.st_mode & 07777) : kNewFileMode;
  if (::fchmod(fd.get(), mode) != 0) {
    return fail(os_error(errno, "chmod " + tmp));
  }
  // Keep the owner and group, so that a server running as another user can still read the
  // file after root edited it. Only attempted when they differ from ours.
  if (old.exists && (old.st.st_uid != ::geteuid() || old.st.st_gid != ::getegid())) {
    if (::fchown(fd.get(), old.st.st_uid, old.st.st_gid) != 0) {
      return fail(os_error(errno, "chown " + tmp + " to the owner of " + path));
    }
  }
  if (Status s = write_all(fd.get(), text, tmp); !s) {
    return fail(s);
  }
  if (::fsync(fd.get()) != 0) {
    return fail(os_error(errno, "fsync " + tmp));
  }
  if (fd.close_checked() != 0) {
    return fail(os_error(errno, "close " + tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(os_error(errno, "rename " + tmp + " to " + path));
  }
  std::string dir = directory_of(path);
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) {
    return os_error(errno, "open " + dir);
  }
  if (::fsync(dir_fd.get()) != 0) {
    return os_error(errno, "fsync " + dir);
  }
  return Status::ok();
}

// The edit transaction. `change` receives the lines (without line ends) and whether the file
// existed; it edits the lines in place or returns an error to abandon the edit.
Status edit_file(const std::string& path, const EditOptions& options,
                 const std::function<Status(std::vector<std::string>&, bool)>& change) {
  std::string lock_path = path + ".lock";
  Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, kNewFileMode));
  if (lock.get() < 0) {
    return os_error(errno, "open " + lock_path);
  }
  auto deadline = std::chrono::steady_clock::now() + options.lock_timeout;
  while (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) {
      continue;
    }
    if (errno != EWOULDBLOCK) {
      return os_error(errno, "flock " + lock_path);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::in_use(lock_path + " is locked by another process");
    }
    std::this_thread::sleep_for(kLockRetryInterval);
  }
  // The lock is released when `lock` is closed, after the rename.

  Result<FileContent> old = read_file(path);
  if (!old) {
    return old.status();
  }
  std::vector<std::string> lines = split_lines(old->text);
  secure_wipe(old->text.data(), old->text.size());
  Status changed = change(lines, old->exists);
  if (!changed) {
    wipe_lines(lines);
    return changed;
  }
  std::string text;
  for (const std::string& line : lines) {
    text += line;
    text += '\n';
  }
  wipe_lines(lines);
  Status written = replace_file(path, *old, text);
  secure_wipe(text.data(), text.size());
  return written;
}

}  // namespace

Status validate_user_name(std::string_view name) {
  if (name.empty()) {
    return Status::invalid_input("empty user name");
  }
  if (name.size() > kMaxUserNameBytes) {
    return Status::invalid_input("user name longer than 255 octets");
  }
  if (name.find(':') != std::string_view::npos) {
    return Status::invalid_input("user name contains ':'");
  }
  if (has_control_or_space(name)) {
    return Status::invalid_input("user name contains white space or a control character");
  }
  if (name.starts_with('#')) {
    return Status::invalid_input("user name starts with '#'");
  }
  return Status::ok();
}

Result<std::string> format_passwd_line(const auth::UserRecord& record, std::string_view hash) {
  if (Status s = validate_user_name(record.name); !s) {
    return s;
  }
  if (Status s = validate_hash(hash); !s) {
    return s;
  }
  if (record.home.find(':') != std::string::npos || has_control(record.home)) {
    return Status::invalid_input("home directory contains ':' or a control character");
  }
  // The extra field is a space-separated list, so the value cannot hold a space; ':' is fine,
  // the extra field runs to the end of the line.
  if (has_control_or_space(record.mail)) {
    return Status::invalid_input("mail location contains white space or a control character");
  }
  auto id = [](uint32_t v) { return v == 0 ? std::string() : std::to_string(v); };
  std::vector<std::string> fields = {
      record.name,
      std::string(hash),
      id(record.uid),
      id(record.gid),
      "",
      record.home,
      "",
      record.mail.empty() ? std::string() : "userdb_mail=" + record.mail};
  while (fields.size() > 2 && fields.back().empty()) {
    fields.pop_back();
  }
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      line += ':';
    }
    line += fields[i];
  }
  return line;
}

Status add_user(const std::string& path, const auth::UserRecord& record, std::string_view hash,
                const EditOptions& options) {
  Result<std::string> line = format_passwd_line(record, hash);
  if (!line) {
    return line.status();
  }
  Status status = edit_file(path, options, [&](std::vector<std::string>& lines, bool) {
    for (const std::string& l : lines) {
      if (line_user(l) == record.name) {
        return Status::invalid_input("user " + record.name + " already exists in " + path);
      }
    }
    lines.push_back(*line);
    return Status::ok();
  });
  secure_wipe(line->data(), line->size());
  return status;
}

Status set_password(const std::string& path, std::string_view name, std::string_view hash,
                    const EditOptions& options) {
  if (Status s = validate_hash(hash); !s) {
    return s;
  }
  return edit_file(path, options, [&](std::vector<std::string>& lines, bool exists) {
    if (!exists) {
      return Status::error(ErrorCode::kUnavailable, path + " does not exist");
    }
    for (std::string& line : lines) {
      if (line_user(line) != name) {
        continue;
      }
      // name ':' password [':' rest...]; a line end CR stays where it was.
      size_t first = line.find(':');
      std::string rest;
      if (first != std::string::npos) {
        size_t second = line.find(':', first + 1);
        if (second != std::string::npos) {
          rest = line.substr(second);
        } else if (line.ends_with('\r')) {
          rest = "\r";
        }
      }
      std::string updated = std::string(name) + ":" + std::string(hash) + rest;
      secure_wipe(line.data(), line.size());
      line = std::move(updated);
      return Status::ok();
    }
    return Status::not_found("user " + std::string(name) + " does not exist in " + path);
  });
}

Status delete_user(const std::string& path, std::string_view name, const EditOptions& options) {
  return edit_file(path, options, [&](std::vector<std::string>& lines, bool exists) {
    if (!exists) {
      return Status::error(ErrorCode::kUnavailable, path + " does not exist");
    }
    size_t before = lines.size();
    std::erase_if(lines, [&](std::string& line) {
      if (line_user(line) != name) {
        return false;
      }
      secure_wipe(line.data(), line.size());
      return true;
    });
    if (lines.size() == before) {
      return Status::not_found("user " + std::string(name) + " does not exist in " + path);
    }
    return Status::ok();
  });
}

Result<bool> user_exists(const std::string& path, std::string_view name) {
  Result<FileContent> content = read_file(path);
  if (!content) {
    return content.status();
  }
  if (!content->exists) {
    return Status::error(ErrorCode::kUnavailable, path + " does not exist");
  }
  bool found = false;
  std::vector<std::string> lines = split_lines(content->text);
  for (const std::string& line : lines) {
    if (line_user(line) == name) {
      found = true;
    }
  }
  wipe_lines(lines);
  secure_wipe(content->text.data(), content->text.size());
  return found;
}

Result<UserList> list_users(const std::string& path) {
  Result<FileContent> content = read_file(path);
  if (!content) {
    return content.status();
  }
  if (!content->exists) {
    return Status::error(ErrorCode::kUnavailable, path + " does not exist");
  }
  auth::ParsedPasswdFile parsed = auth::parse_passwd_text(content->text, path);
  secure_wipe(content->text.data(), content->text.size());
  UserList list;
  std::unordered_set<std::string> seen;
  for (const auth::PasswdEntry& entry : parsed.entries) {
    if (seen.insert(entry.user.name).second) {
      list.names.push_back(entry.user.name);
    }
  }
  list.warnings = std::move(parsed.errors);
  return list;
}

}  // namespace poplar::admin
