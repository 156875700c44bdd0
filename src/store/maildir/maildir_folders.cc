// MaildirFolders (maildir_folders.h): the POP4 folder operations of one user's Maildir.
//
// Must never: write to a source message; give a file a name with a keyword letter before the
// target's dovecot-keywords maps it durably.
//
// Thread-safety: one thread at a time (maildir_folders.h).
#include "store/maildir/maildir_folders.h"

#include <span>
#include <utility>

#include "base/ascii.h"
#include "store/maildir/file_name.h"
#include "store/maildir/folder_copy.h"
#include "store/maildir/folder_name.h"
#include "store/maildir/info_flags.h"
#include "store/maildir/keywords_file.h"
#include "store/maildir/maildir_maildrop.h"
#include "store/maildir/maildir_writer.h"
#include "store/maildir/uidl.h"

namespace poplar::store::maildir {
namespace {

std::string_view last_component(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// True when a keyword of `flags` has no letter in `table` yet ($Forwarded is 'P').
bool needs_new_letter(const MessageFlags& flags, const KeywordTable& table) {
  for (const std::string& keyword : flags.keywords()) {
    if (!table.letter_of(keyword).has_value() && !ascii_iequals(keyword, "$Forwarded")) {
      return true;
    }
  }
  return false;
}

// Keeps add() from giving out letters that the names in new/ and cur/ of `folder` use but the
// table does not map (a lost or hand-edited file): those messages would gain the keyword.
Status reserve_used_letters(fs::FileSystem& fs, const std::string& folder, KeywordTable& table) {
  for (std::string_view sub : {"cur", "new"}) {
    fs::DirectoryListing listing;
    if (Status listed = fs.list_directory(folder + "/" + std::string(sub), &listing);
        !listed.is_ok()) {
      return listed;
    }
    for (size_t i = 0; i < listing.size(); ++i) {
      for (char c : info_letters(listing.name(i))) {
        if (c >= 'a' && c <= 'z' && table.keyword(c).empty()) {
          table.reserve(c);
        }
      }
    }
  }
  return Status::ok();
}

// STOR's writer: a Maildir delivery, plus the UIDL the new file's base name gives it.
class MaildirFolderWriter final : public FolderMessageWriter {
 public:
  explicit MaildirFolderWriter(MessageWriterPtr delivery) : delivery_(std::move(delivery)) {}

  Status write(std::string_view wire_chunk) override { return delivery_->write(wire_chunk); }

  Result<std::string> commit() override {
    Result<std::string> path = delivery_->commit();
    if (path.is_ok()) {
      // What the folder's snapshot derives from the same name later (uidl.h): a fresh unique
      // name is the first and only file with its base name.
      uidl_ = uidl_for_base_name(base_name(last_component(*path)), 1);
    }
    return path;
  }

  uint64_t received_octets() const override { return delivery_->received_octets(); }
  uint64_t stored_octets() const override { return delivery_->stored_octets(); }
  std::string_view uidl() const override { return uidl_; }

 private:
  MessageWriterPtr delivery_;
  std::string uidl_;
};

}  // namespace

MaildirFolders::MaildirFolders(fs::FileSystem& fs, std::string root)
    : fs_(fs), root_(std::move(root)), tree_(fs, root_), store_(fs) {}

Result<std::vector<std::string>> MaildirFolders::list() {
  Result<std::vector<FolderEntry>> entries = tree_.list();
  if (!entries.is_ok()) {
    return entries.status();
  }
  std::vector<std::string> names;
  names.reserve(entries->size());
  for (FolderEntry& entry : *entries) {
    names.push_back(std::move(entry.name));
  }
  return names;
}

Result<std::string> MaildirFolders::existing_folder(std::string_view name, bool inbox_allowed) {
  Result<FolderName> parsed = parse_folder_name(name);
  if (!parsed.is_ok()) {
    return parsed.status();
  }
  if (parsed->is_inbox()) {
    if (!inbox_allowed) {
      return Status::invalid_input("INBOX is opened at login, not as a folder");
    }
    return root_;
  }
  std::string path = root_ + "/" + parsed->directory;
  Result<fs::FileInfo> info = fs_.stat(path);
  if (!info.is_ok()) {
    return info.status().code() == ErrorCode::kNotFound ? Status::not_found("no such folder")
                                                        : info.status();
  }
  if (info->type != fs::FileType::kDirectory) {
    return Status::not_found("no such folder");
  }
  return path;
}

Result<FolderCounts> MaildirFolders::counts(std::string_view name) {
  Result<std::string> path = existing_folder(name, false);
  if (!path.is_ok()) {
    return path.status();
  }
  Result<FolderSummary> summary = summarize_folder(store_, FolderEntry{std::string(name), *path});
  if (!summary.is_ok()) {
    return summary.status();
  }
  return FolderCounts{summary->messages, summary->octets};
}

Result<MaildropPtr> MaildirFolders::open(std::string_view name) {
  Result<std::string> path = existing_folder(name, false);
  if (!path.is_ok()) {
    return path.status();
  }
  return MaildirMaildrop::open(fs_, std::move(path).value(), MaildirMaildrop::Kind::kFolder);
}

Status MaildirFolders::create(std::string_view name) { return tree_.create(name); }

Status MaildirFolders::remove(std::string_view name) { return tree_.remove(name); }

Status MaildirFolders::rename(std::string_view from, std::string_view to) {
  return tree_.rename(from, to);
}

Status MaildirFolders::move_under(std::string_view name, std::string_view parent) {
  return tree_.move_under(name, parent);
}

Result<std::string> MaildirFolders::letters_in(const std::string& folder,
                                               const MessageFlags& flags) {
  KeywordTable table;
  if (!flags.keywords().empty()) {
    Result<KeywordTable> read = read_keywords_file(fs_, folder);
    if (!read.is_ok()) {
      return Status::temporary("the keywords file cannot be read: " + read.status().message());
    }
    table = std::move(read).value();
    if (needs_new_letter(flags, table)) {
      if (Status reserved = reserve_used_letters(fs_, folder, table); !reserved.is_ok()) {
        return reserved;
      }
    }
  }
  Result<std::string> letters = letters_for(flags, "", table);
  if (!letters.is_ok()) {
    return letters.status();  // kLimit: nothing written yet
  }
  if (table.changed()) {
    // Durable before any name uses the new letters (keywords_file.h syncs the file and folder).
    if (Status written = write_keywords_file(fs_, folder, table); !written.is_ok()) {
      return written;
    }
  }
  return letters;
}

Status MaildirFolders::copy_message(Maildrop& source, size_t index, std::string_view target,
                                    const MessageFlags& flags) {
  Result<std::string> folder = existing_folder(target, true);
  if (!folder.is_ok()) {
    return folder.status();
  }
  if (index >= source.messages().size()) {
    return Status::invalid_input("message index out of range");
  }
  auto* maildir_source = dynamic_cast<MaildirMaildrop*>(&source);
  std::string source_path;
  if (maildir_source != nullptr) {
    // Before the keywords are registered, so that a vanished message changes nothing.
    Result<std::string> path = maildir_source->message_path(index);
    if (!path.is_ok()) {
      return path.status();
    }
    source_path = std::move(path).value();
  }
  Result<std::string> letters = letters_in(*folder, flags);
  if (!letters.is_ok()) {
    return letters.status();
  }
  if (maildir_source != nullptr) {
    CopyOptions options;
    options.info_letters = std::move(letters).value();
    Result<CopiedMessage> copied = copy_message_file(fs_, source_path, *folder, options);
    return copied.status();
  }
  // Another backend's message: no file to link, so it is read and stored like STOR. Its bytes
  // are what the backend keeps (for Poplar's stores: LF line ends), so they are passed through
  // as they are; CrlfToLf leaves LF-only text unchanged.
  Result<MessageReaderPtr> reader = source.open_message(index);
  if (!reader.is_ok()) {
    return reader.status();
  }
  DeliveryOptions options;
  options.create_directories = false;
  options.info_letters = std::move(letters).value();
  Result<MessageWriterPtr> writer = begin_maildir_delivery(fs_, *folder, options);
  if (!writer.is_ok()) {
    return writer.status();
  }
  std::string block(64 * 1024, '\0');
  for (;;) {
    Result<size_t> got = (*reader)->read(std::span<char>(block.data(), block.size()));
    if (!got.is_ok()) {
      return got.status();  // the writer dies and removes its tmp/ file
    }
    if (*got == 0) {
      break;
    }
    if (Status written = (*writer)->write(std::string_view(block.data(), *got)); !written.is_ok()) {
      return written;
    }
  }
  return (*writer)->commit().status();
}

Result<FolderMessageWriterPtr> MaildirFolders::begin_store_in(const std::string& folder,
                                                              const MessageFlags& flags) {
  Result<std::string> letters = letters_in(folder, flags);
  if (!letters.is_ok()) {
    return letters.status();
  }
  DeliveryOptions options;
  options.create_directories = false;  // never re-create a folder removed meanwhile
  options.info_letters = std::move(letters).value();
  Result<MessageWriterPtr> delivery = begin_maildir_delivery(fs_, folder, options);
  if (!delivery.is_ok()) {
    return delivery.status();
  }
  return FolderMessageWriterPtr(std::make_unique<MaildirFolderWriter>(std::move(delivery).value()));
}

Result<FolderMessageWriterPtr> MaildirFolders::begin_store(std::string_view target,
                                                           const MessageFlags& flags) {
  Result<std::string> folder = existing_folder(target, true);
  if (!folder.is_ok()) {
    return folder.status();
  }
  return begin_store_in(*folder, flags);
}

}  // namespace poplar::store::maildir
