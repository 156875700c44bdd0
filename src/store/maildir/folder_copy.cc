// copy_message_file (folder_copy.h): link(2), or a copy through tmp/, into another Maildir.
//
// Must never: write to the source; give a partial file a name in new/ or cur/.
//
// Thread-safety: the name counter is atomic; nothing else is shared.
#include "store/maildir/folder_copy.h"

#include <array>
#include <atomic>
#include <optional>
#include <span>
#include <string_view>

#include "store/fs/process_identity.h"
#include "store/maildir/file_name.h"
#include "store/maildir/folder_name.h"
#include "store/maildir/maildir_writer.h"

namespace poplar::store::maildir {
namespace {

constexpr uint32_t kMessageMode = 0600;
constexpr size_t kCopyBlockOctets = 64 * 1024;
// Fresh names taken by someone else in a row before giving up (each has a new counter value,
// so only a name written by another program with our pid and clock could collide).
constexpr int kNameAttempts = 8;

// Counts copies in this process, so that two in the same microsecond get different names; 'C'
// in the name keeps them apart from deliveries, whose counter is 'Q'.
std::atomic<uint64_t> copy_counter{0};

std::string unique_base(fs::FileSystem& fs, uint64_t pid, const std::string& host) {
  const int64_t now_ns = fs.now_ns();
  return std::to_string(now_ns / 1'000'000'000) + ".M" +
         std::to_string((now_ns % 1'000'000'000) / 1000) + "P" + std::to_string(pid) + "C" +
         std::to_string(++copy_counter) + "." + host;
}

std::string_view last_component(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view parent_component(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view()
                                         : last_component(path.substr(0, slash));
}

// Streams the source into a new tmp/ file, synced and closed. The caller unlinks it on error.
Status copy_into(fs::FileSystem& fs, const std::string& source, const std::string& tmp_path) {
  Result<fs::WritableFilePtr> out = fs.create_new_file(tmp_path, kMessageMode);
  if (!out.is_ok()) {
    return out.status();
  }
  Result<fs::SequentialFilePtr> in = fs.open_for_read(source);
  if (!in.is_ok()) {
    return in.status();
  }
  std::string block(kCopyBlockOctets, '\0');
  for (;;) {
    Result<size_t> got = (*in)->read(std::span<char>(block.data(), block.size()));
    if (!got.is_ok()) {
      return got.status();
    }
    if (*got == 0) {
      break;
    }
    if (Status written = (*out)->append(std::string_view(block.data(), *got)); !written.is_ok()) {
      return written;
    }
  }
  if (Status synced = (*out)->sync(); !synced.is_ok()) {
    return synced;
  }
  return (*out)->close();
}

}  // namespace

Result<CopiedMessage> copy_message_file(fs::FileSystem& fs, const std::string& source_path,
                                        const std::string& target_root,
                                        const CopyOptions& options) {
  const std::string_view name = last_component(source_path);
  if (is_ignored_name(name)) {
    return Status::invalid_input("copy: not a message file name: " + source_path);
  }
  const std::string_view given = options.base_name;
  if (!given.empty() && (given.size() > kMaxFolderDirectoryOctets - 16 || is_ignored_name(given) ||
                         given.find_first_of(std::string_view("/:\0", 3)) != std::string::npos)) {
    return Status::invalid_input("copy: not a valid Maildir base name");
  }
  std::string info(name.substr(base_name(name).size()));  // ":2,<flags>" or ""
  const std::string_view source_dir = parent_component(source_path);
  std::string sub = source_dir == "new" || source_dir == "cur" ? std::string(source_dir)
                    : info.empty()                             ? std::string("new")
                                                               : std::string("cur");
  if (options.info_letters.has_value()) {
    // Exactly the caller's flags: a message without any is a new one, as delivered.
    for (char c : *options.info_letters) {
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
        return Status::invalid_input("copy: info letters must be letters");
      }
    }
    info = options.info_letters->empty() ? std::string() : ":2," + *options.info_letters;
    sub = info.empty() ? "new" : "cur";
  }
  Result<fs::FileInfo> source = fs.stat(source_path);
  if (!source.is_ok()) {
    return source.status();
  }
  if (source->type != fs::FileType::kRegular) {
    return Status::permanent("copy: not a regular file: " + source_path);
  }
  std::string sizes = ",S=" + std::to_string(source->size_bytes);
  if (std::optional<uint64_t> wire = wire_size_field(base_name(name)); wire.has_value()) {
    sizes += ",W=" + std::to_string(*wire);
  }
  const std::string host =
      encode_host_for_maildir(options.hostname.empty() ? fs::host_name() : options.hostname);
  const uint64_t pid = options.pid != 0 ? options.pid : fs::process_id();
  const std::string sub_dir = target_root + "/" + sub;

  // An earlier attempt with the caller's base name left its file: the same file (a link) or one
  // of the same size (a copy) means it succeeded; anything else at that name is not ours.
  const auto earlier_attempt = [&](const std::string& dest, bool by_link) -> Result<bool> {
    Result<fs::FileInfo> there = fs.stat(dest);
    if (!there.is_ok()) {
      return there.status();
    }
    const bool same =
        by_link ? there->device == source->device && there->inode == source->inode
                : there->type == fs::FileType::kRegular && there->size_bytes == source->size_bytes;
    if (!same) {
      return Status::in_use("copy: another file has the name " + dest);
    }
    return true;
  };

  CopiedMessage copied;
  bool created = false;  // this call gave the file its name (so an error undoes it)
  for (int attempt = 0; attempt < kNameAttempts && copied.path.empty(); ++attempt) {
    const std::string base =
        given.empty() ? unique_base(fs, pid, host) + sizes : std::string(given);
    const std::string relative = sub + "/" + base + info;
    const std::string dest = target_root + "/" + relative;
    Status linked = fs.link_file(source_path, dest);
    if (linked.is_ok() || (linked.code() == ErrorCode::kInUse && !given.empty())) {
      if (!linked.is_ok()) {
        if (Result<bool> done = earlier_attempt(dest, true); !done.is_ok()) {
          return done.status();
        }
      }
      created = linked.is_ok();
      copied = CopiedMessage{relative, base, true};
      break;
    }
    if (linked.code() == ErrorCode::kInUse) {
      continue;  // a fresh name that was taken: try the next one
    }
    if (linked.code() != ErrorCode::kUnavailable) {
      return linked;
    }
    // No hard links here (another file system, or none at all): copy through tmp/.
    Result<fs::FileInfo> taken = fs.stat(dest);
    if (taken.is_ok()) {
      if (given.empty()) {
        continue;
      }
      if (Result<bool> done = earlier_attempt(dest, false); !done.is_ok()) {
        return done.status();
      }
      copied = CopiedMessage{relative, base, false};
      break;
    }
    if (taken.status().code() != ErrorCode::kNotFound) {
      return taken.status();
    }
    const std::string tmp_path = target_root + "/tmp/" + base;
    Status made = copy_into(fs, source_path, tmp_path);
    if (made.is_ok()) {
      made = fs.link_file(tmp_path, dest);
      if (made.code() == ErrorCode::kUnavailable) {
        // Checked free above; the lock-free window is the same as the delivery writer's.
        made = fs.rename(tmp_path, dest);
      }
    }
    (void)fs.unlink(tmp_path);  // after a rename it is gone already (kNotFound)
    if (!made.is_ok()) {
      return made;
    }
    created = true;
    copied = CopiedMessage{relative, base, false};
  }
  if (copied.path.empty()) {
    return Status::temporary("copy: no free name in " + sub_dir);
  }
  if (Status synced = fs.sync_directory(sub_dir); !synced.is_ok()) {
    if (created) {
      // Not known to be durable: take it away, so that the caller's retry leaves no duplicate.
      (void)fs.unlink(target_root + "/" + copied.path);
    }
    return synced;
  }
  return copied;
}

}  // namespace poplar::store::maildir
