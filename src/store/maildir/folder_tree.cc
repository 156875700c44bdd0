// FolderTree (folder_tree.h): listing, creating, deleting and renaming Maildir++ folders
// through the file-system seam.
//
// Must never: leave a folder directory in the root that lacks cur/, new/, tmp/ or its marker;
// remove a directory that may still hold a message; touch a path not built from a validated
// name or a staging name of its own under the root's tmp/.
//
// Thread-safety: one thread at a time (folder_tree.h).
#include "store/maildir/folder_tree.h"

#include <algorithm>
#include <utility>

#include "store/maildir/file_name.h"

namespace poplar::store::maildir {
namespace {

constexpr uint32_t kDirectoryMode = 0700;
constexpr uint32_t kMarkerMode = 0600;
constexpr std::string_view kMaildirSubdirs[] = {"cur", "new", "tmp"};

bool is_directory_type(fs::FileType type) { return type == fs::FileType::kDirectory; }

// The type is known from readdir() on most file systems; otherwise (or for a symbolic link,
// which Dovecot follows too) stat() says.
bool names_directory(fs::FileSystem& fs, const std::string& path, fs::FileType listed) {
  if (listed == fs::FileType::kDirectory) {
    return true;
  }
  if (listed != fs::FileType::kUnknown && listed != fs::FileType::kSymlink) {
    return false;
  }
  Result<fs::FileInfo> info = fs.stat(path);
  return info.is_ok() && is_directory_type(info->type);
}

size_t count_levels(std::string_view directory) {
  return static_cast<size_t>(std::count(directory.begin(), directory.end(), kDiskSeparator));
}

}  // namespace

FolderTree::FolderTree(fs::FileSystem& fs, std::string root) : fs_(fs), root_(std::move(root)) {}

std::string FolderTree::join(std::string_view directory) const {
  std::string path = root_;
  path.push_back('/');
  path.append(directory);
  return path;
}

Result<std::vector<FolderEntry>> FolderTree::list() {
  fs::DirectoryListing listing;
  if (Status listed = fs_.list_directory(root_, &listing); !listed.is_ok()) {
    return listed;
  }
  std::vector<FolderEntry> folders;
  for (size_t i = 0; i < listing.size(); ++i) {
    const std::string_view entry = listing.name(i);
    if (entry.size() < 2 || entry.front() != kDiskSeparator) {
      continue;
    }
    Result<FolderName> name = parse_folder_directory(entry);
    if (!name.is_ok()) {
      continue;
    }
    std::string path = join(entry);
    if (!names_directory(fs_, path, listing.type(i))) {
      continue;
    }
    folders.push_back(FolderEntry{std::move(name->wire), std::move(path)});
  }
  std::sort(folders.begin(), folders.end(),
            [](const FolderEntry& a, const FolderEntry& b) { return a.name < b.name; });
  folders.insert(folders.begin(), FolderEntry{std::string(kInboxName), root_});
  return folders;
}

Result<std::string> FolderTree::path_of(std::string_view wire_name) const {
  Result<FolderName> name = parse_folder_name(wire_name);
  if (!name.is_ok()) {
    return name.status();
  }
  return name->is_inbox() ? root_ : join(name->directory);
}

Result<std::string> FolderTree::make_staging_directory(std::string_view purpose) {
  const std::string tmp = join("tmp");
  if (Result<bool> made = fs_.make_directory(tmp, kDirectoryMode); !made.is_ok()) {
    return made.status();
  }
  // The clock and a counter make the name fresh; a leftover of a crashed run with the same
  // name (only possible after a clock step) is skipped.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string path = tmp + "/poplar-" + std::string(purpose) + "." +
                       std::to_string(fs_.now_ns()) + "." + std::to_string(++staging_counter_);
    Result<bool> made = fs_.make_directory(path, kDirectoryMode);
    if (!made.is_ok()) {
      return made.status();
    }
    if (*made) {
      return path;
    }
  }
  return Status::temporary("no free staging directory name under " + tmp);
}

Status FolderTree::dismantle(const std::string& path) {
  Status first_error;
  const auto note = [&](Status status) {
    if (!status.is_ok() && first_error.is_ok()) {
      first_error = std::move(status);
    }
  };
  fs::DirectoryListing listing;
  note(fs_.list_directory(path, &listing));
  for (size_t i = 0; i < listing.size(); ++i) {
    const std::string child = path + "/" + std::string(listing.name(i));
    if (!names_directory(fs_, child, listing.type(i))) {
      note(fs_.unlink(child));
      continue;
    }
    fs::DirectoryListing inner;
    note(fs_.list_directory(child, &inner));
    for (size_t j = 0; j < inner.size(); ++j) {
      // Only files: a directory nested deeper is not ours, so rmdir below fails and the
      // staging directory stays where no reader looks.
      if (inner.type(j) != fs::FileType::kDirectory) {
        note(fs_.unlink(child + "/" + std::string(inner.name(j))));
      }
    }
    note(fs_.remove_directory(child));
  }
  note(fs_.remove_directory(path));
  return first_error;
}

Status FolderTree::create_one(const std::string& directory) {
  Result<std::string> staging = make_staging_directory("folder");
  if (!staging.is_ok()) {
    return staging.status();
  }
  const auto build = [&]() -> Status {
    for (std::string_view sub : kMaildirSubdirs) {
      Result<bool> made = fs_.make_directory(*staging + "/" + std::string(sub), kDirectoryMode);
      if (!made.is_ok()) {
        return made.status();
      }
    }
    Result<fs::WritableFilePtr> marker =
        fs_.create_new_file(*staging + "/" + std::string(kFolderMarkerName), kMarkerMode);
    if (!marker.is_ok()) {
      return marker.status();
    }
    if (Status closed = (*marker)->close(); !closed.is_ok()) {
      return closed;
    }
    // Its entries durable before it gets its name: a crash never shows a folder without them.
    return fs_.sync_directory(*staging);
  };
  Status built = build();
  if (built.is_ok()) {
    built = fs_.rename(*staging, join(directory));
    if (built.is_ok()) {
      if (Status synced = fs_.sync_directory(root_); !synced.is_ok()) {
        // Not known to be durable: take it back, so that an error means "not created".
        (void)fs_.rename(join(directory), *staging);
        built = std::move(synced);
      }
    }
  }
  if (!built.is_ok()) {
    (void)dismantle(*staging);
  }
  return built;
}

Status FolderTree::create(std::string_view wire_name) {
  Result<FolderName> name = parse_folder_name(wire_name);
  if (!name.is_ok()) {
    return name.status();
  }
  if (name->is_inbox()) {
    return Status::invalid_input("folder INBOX already exists");
  }
  // Each level from the top: ".A", ".A.B", ... (encoded levels never contain '.').
  for (size_t end = name->directory.find(kDiskSeparator, 1);;) {
    const std::string prefix = name->directory.substr(0, end);
    const bool last = end == std::string::npos;
    Result<fs::FileInfo> info = fs_.stat(join(prefix));
    if (info.is_ok()) {
      if (!is_directory_type(info->type)) {
        return Status::permanent("folder directory " + join(prefix) + " is not a directory");
      }
      if (last) {
        return Status::invalid_input("folder already exists");
      }
    } else if (info.status().code() != ErrorCode::kNotFound) {
      return info.status();
    } else if (Status made = create_one(prefix); !made.is_ok()) {
      return made;
    }
    if (last) {
      return Status::ok();
    }
    end = name->directory.find(kDiskSeparator, end + 1);
  }
}

Result<bool> FolderTree::holds_messages(const std::string& path) {
  for (std::string_view sub : {"new", "cur"}) {
    fs::DirectoryListing listing;
    Status listed = fs_.list_directory(path + "/" + std::string(sub), &listing);
    if (listed.code() == ErrorCode::kNotFound) {
      continue;
    }
    if (!listed.is_ok()) {
      return listed;
    }
    for (size_t i = 0; i < listing.size(); ++i) {
      if (!is_ignored_name(listing.name(i))) {
        return true;
      }
    }
  }
  return false;
}

Result<std::vector<std::string>> FolderTree::subtree(const std::string& directory) {
  fs::DirectoryListing listing;
  if (Status listed = fs_.list_directory(root_, &listing); !listed.is_ok()) {
    return listed;
  }
  std::vector<std::string> found;
  for (size_t i = 0; i < listing.size(); ++i) {
    const std::string_view entry = listing.name(i);
    if (entry == directory || (entry.size() > directory.size() && entry.starts_with(directory) &&
                               entry[directory.size()] == kDiskSeparator)) {
      found.emplace_back(entry);
    }
  }
  // Parents before children: ".A" sorts before ".A.B".
  std::sort(found.begin(), found.end());
  return found;
}

Status FolderTree::remove(std::string_view wire_name) {
  Result<FolderName> name = parse_folder_name(wire_name);
  if (!name.is_ok()) {
    return name.status();
  }
  if (name->is_inbox()) {
    return Status::invalid_input("folder INBOX cannot be deleted");
  }
  const std::string path = join(name->directory);
  Result<fs::FileInfo> info = fs_.stat(path);
  if (!info.is_ok() || !is_directory_type(info->type)) {
    return !info.is_ok() && info.status().code() != ErrorCode::kNotFound
               ? info.status()
               : Status::not_found("no such folder");
  }
  Result<std::vector<std::string>> tree = subtree(name->directory);
  if (!tree.is_ok()) {
    return tree.status();
  }
  if (tree->size() > 1) {
    return Status::invalid_input("folder has subfolders");
  }
  Result<bool> full = holds_messages(path);
  if (!full.is_ok()) {
    return full.status();
  }
  if (*full) {
    return Status::invalid_input("folder is not empty");
  }
  // Out of sight first (an MDA resolving the folder's path from now on finds nothing), then
  // checked again: a message delivered between the check above and the rename went with it,
  // and the folder goes back.
  Result<std::string> trash = make_staging_directory("deleted");
  if (!trash.is_ok()) {
    return trash.status();
  }
  if (Status moved = fs_.rename(path, *trash); !moved.is_ok()) {
    (void)fs_.remove_directory(*trash);
    return moved;
  }
  Result<bool> late = holds_messages(*trash);
  Status outcome = !late.is_ok() ? late.status()
                   : *late       ? Status::invalid_input("folder is not empty")
                                 : fs_.sync_directory(root_);
  if (!outcome.is_ok()) {
    if (Status back = fs_.rename(*trash, path); !back.is_ok()) {
      return Status::temporary("folder left in " + *trash + " after: " + outcome.message() +
                               "; moving it back failed: " + back.message());
    }
    return outcome;
  }
  // The folder is gone for every reader; what cannot be removed stays under tmp/.
  (void)dismantle(*trash);
  return Status::ok();
}

Status FolderTree::rename(std::string_view from, std::string_view to) {
  Result<FolderName> old_name = parse_folder_name(from);
  if (!old_name.is_ok()) {
    return old_name.status();
  }
  Result<FolderName> new_name = parse_folder_name(to);
  if (!new_name.is_ok()) {
    return new_name.status();
  }
  if (old_name->is_inbox()) {
    return Status::invalid_input("folder INBOX cannot be renamed");
  }
  if (new_name->is_inbox()) {
    return Status::invalid_input("folder INBOX already exists");
  }
  const std::string& old_dir = old_name->directory;
  const std::string& new_dir = new_name->directory;
  if (new_dir == old_dir) {
    return Status::invalid_input("folder already has that name");
  }
  if (new_dir.starts_with(old_dir) && new_dir[old_dir.size()] == kDiskSeparator) {
    return Status::invalid_input("a folder cannot be moved beneath itself");
  }
  Result<fs::FileInfo> info = fs_.stat(join(old_dir));
  if (!info.is_ok() || !is_directory_type(info->type)) {
    return !info.is_ok() && info.status().code() != ErrorCode::kNotFound
               ? info.status()
               : Status::not_found("no such folder");
  }
  Result<std::vector<std::string>> sources = subtree(old_dir);
  if (!sources.is_ok()) {
    return sources.status();
  }
  std::vector<std::string> targets;
  for (const std::string& source : *sources) {
    std::string target = new_dir + source.substr(old_dir.size());
    if (target.size() > kMaxFolderDirectoryOctets || count_levels(target) > kMaxFolderLevels) {
      return Status::invalid_input("a subfolder's name would become too long or too deep");
    }
    Result<fs::FileInfo> taken = fs_.stat(join(target));
    if (taken.is_ok()) {
      return Status::invalid_input(target == new_dir ? "folder already exists"
                                                     : "a subfolder's new name exists already");
    }
    if (taken.status().code() != ErrorCode::kNotFound) {
      return taken.status();
    }
    targets.push_back(std::move(target));
  }
  // Missing parents of the new name, as CFLD would make them.
  for (size_t end = new_dir.find(kDiskSeparator, 1); end != std::string::npos;
       end = new_dir.find(kDiskSeparator, end + 1)) {
    const std::string parent = new_dir.substr(0, end);
    Result<fs::FileInfo> parent_info = fs_.stat(join(parent));
    if (parent_info.is_ok()) {
      continue;
    }
    if (parent_info.status().code() != ErrorCode::kNotFound) {
      return parent_info.status();
    }
    if (Status made = create_one(parent); !made.is_ok()) {
      return made;
    }
  }
  size_t done = 0;
  Status outcome;
  for (; done < sources->size(); ++done) {
    outcome = fs_.rename(join((*sources)[done]), join(targets[done]));
    if (!outcome.is_ok()) {
      break;
    }
  }
  if (outcome.is_ok()) {
    outcome = fs_.sync_directory(root_);
  }
  if (!outcome.is_ok()) {
    // Undo, newest first; each folder stays whole under one of its two names whatever fails.
    while (done > 0) {
      --done;
      (void)fs_.rename(join(targets[done]), join((*sources)[done]));
    }
    (void)fs_.sync_directory(root_);
  }
  return outcome;
}

Status FolderTree::move_under(std::string_view wire_name, std::string_view parent) {
  Result<FolderName> name = parse_folder_name(wire_name);
  if (!name.is_ok()) {
    return name.status();
  }
  if (name->is_inbox()) {
    return Status::invalid_input("folder INBOX cannot be moved");
  }
  const std::string leaf(folder_leaf(name->wire));
  if (parent.empty()) {
    return rename(name->wire, leaf);
  }
  Result<FolderName> parent_name = parse_folder_name(parent);
  if (!parent_name.is_ok()) {
    return parent_name.status();
  }
  if (parent_name->is_inbox()) {
    return Status::invalid_input("INBOX can hold no folders in Maildir++");
  }
  Result<fs::FileInfo> info = fs_.stat(join(parent_name->directory));
  if (!info.is_ok() || !is_directory_type(info->type)) {
    return !info.is_ok() && info.status().code() != ErrorCode::kNotFound
               ? info.status()
               : Status::not_found("no such parent folder");
  }
  return rename(name->wire, parent_name->wire + std::string(1, kWireSeparator) + leaf);
}

Result<FolderSummary> summarize_folder(MailStore& store, const FolderEntry& entry) {
  Result<MaildropPtr> drop = store.open_maildrop(entry.path);
  if (!drop.is_ok()) {
    return drop.status();
  }
  FolderSummary summary;
  for (const MessageInfo& message : (*drop)->messages()) {
    ++summary.messages;
    summary.octets += message.size_octets;
  }
  return summary;
}

}  // namespace poplar::store::maildir
