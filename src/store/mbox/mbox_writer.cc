// mboxrd append with truncate-back; see mbox_writer.h.
//
// Must never: write without both locks, or leave a partial message after an error it saw.
//
// Thread-safety: one writer per thread.
#include "store/mbox/mbox_writer.h"

#include <memory>
#include <utility>

#include "store/lf_line_ends.h"
#include "store/mbox/from_line.h"
#include "store/mbox/mbox_lock.h"
#include "store/mbox/mboxrd_quoter.h"

namespace poplar::store::mbox {
namespace {

// The quoted message goes to the file in blocks of this size.
constexpr size_t kWriteBlockBytes = 64 * 1024;

// The most of the header block held while looking for Return-Path. A header block longer than
// this is malformed or hostile; its sender is then MAILER-DAEMON unless Return-Path came
// earlier (MTAs put it first).
constexpr size_t kMaxHeldHeaderBytes = 64 * 1024;

class MboxWriter final : public MessageWriter {
 public:
  MboxWriter(fs::FileSystem& fs, std::string path, MboxOptions options,
             std::unique_ptr<MboxLock> lock, uint64_t original_size, std::string separator)
      : fs_(fs),
        path_(std::move(path)),
        options_(std::move(options)),
        lock_(std::move(lock)),
        original_size_(original_size),
        pending_(std::move(separator)) {}

  MboxWriter(const MboxWriter&) = delete;
  MboxWriter& operator=(const MboxWriter&) = delete;

  ~MboxWriter() override {
    if (lock_ != nullptr) {
      roll_back();
    }
  }

  Status write(std::string_view wire_chunk) override {
    if (!usable()) {
      return status_;
    }
    if (from_written_) {
      scratch_.clear();
      converter_.convert(wire_chunk, &scratch_);
      take_stored(scratch_);
      quoter_.quote(scratch_, &pending_);
    } else {
      const size_t searched = header_.size();
      converter_.convert(wire_chunk, &header_);
      if (header_complete(searched)) {
        start_message();
      }
    }
    if (pending_.size() >= kWriteBlockBytes) {
      flush();
    }
    return status_;
  }

  Result<std::string> commit() override {
    if (!usable()) {
      return status_;
    }
    if (from_written_) {
      scratch_.clear();
      converter_.finish(&scratch_);
      take_stored(scratch_);
      quoter_.quote(scratch_, &pending_);
    } else {
      converter_.finish(&header_);
      start_message();
    }
    quoter_.finish(&pending_);
    // mboxrd: the message ends with a line end, then one empty line separates it from the next
    // From_ line. An empty message is the From_ line and the empty line.
    if (stored_octets_ > 0 && last_stored_ != '\n') {
      pending_ += '\n';
    }
    pending_ += '\n';
    flush();
    if (status_.is_ok()) {
      fail_if(lock_->file().sync());
    }
    if (!status_.is_ok()) {
      roll_back();
      return status_;
    }
    // Synced: the message is durable, and the caller may now delete it at its source. A
    // close(2) error after a successful fsync cannot undo that (the data reached the disk), so
    // it is not reported as a failed delivery, which would only fetch the message again.
    (void)lock_->release();
    lock_.reset();
    committed_ = true;
    return path_ + "@" + std::to_string(from_offset_);
  }

  uint64_t received_octets() const override { return converter_.input_octets(); }
  uint64_t stored_octets() const override { return converter_.output_octets(); }

 private:
  bool usable() {
    if (committed_ && status_.is_ok()) {
      status_ = Status::invalid_input("mbox delivery to " + path_ + ": already committed");
    }
    return status_.is_ok() && lock_ != nullptr;
  }

  void fail_if(Status status) {
    if (status_.is_ok() && !status.is_ok()) {
      status_ = std::move(status);
    }
  }

  void take_stored(std::string_view text) {
    if (!text.empty()) {
      stored_octets_ += text.size();
      last_stored_ = text.back();
    }
  }

  // True when header_ holds the whole header block (up to its empty line) or as much of it as
  // is held. `searched`: octets already looked at by earlier calls.
  bool header_complete(size_t searched) const {
    if (header_.size() >= kMaxHeldHeaderBytes || (!header_.empty() && header_.front() == '\n')) {
      return true;
    }
    size_t from = searched > 0 ? searched - 1 : 0;
    return header_.find("\n\n", from) != std::string::npos;
  }

  // Writes the From_ line, then the held header block.
  void start_message() {
    std::string sender =
        options_.envelope_sender.empty() ? sender_from_header(header_) : options_.envelope_sender;
    const int64_t when = options_.time_s >= 0 ? options_.time_s : fs_.now_ns() / 1'000'000'000;
    from_offset_ = original_size_ + pending_.size();  // after the separator, if any
    pending_ += from_line(sender, when);
    from_written_ = true;
    take_stored(header_);
    quoter_.quote(header_, &pending_);
    header_.clear();
    header_.shrink_to_fit();
  }

  void flush() {
    if (pending_.empty() || !status_.is_ok()) {
      return;
    }
    fail_if(lock_->file().append(pending_));
    pending_.clear();
    if (!status_.is_ok()) {
      roll_back();
    }
  }

  // Cuts the mbox back to its size before this delivery, makes that durable, and releases
  // the locks. Nothing more can be done when the truncate itself fails: the error that led
  // here is what the caller sees.
  void roll_back() {
    if (lock_ == nullptr) {
      return;
    }
    if (lock_->file().truncate(original_size_).is_ok()) {
      (void)lock_->file().sync();
    }
    (void)lock_->release();
    lock_.reset();
    if (status_.is_ok()) {
      status_ = Status::invalid_input("mbox delivery to " + path_ + ": abandoned");
    }
  }

  fs::FileSystem& fs_;
  const std::string path_;
  const MboxOptions options_;
  std::unique_ptr<MboxLock> lock_;  // null once released
  const uint64_t original_size_;
  uint64_t from_offset_ = 0;
  bool from_written_ = false;
  bool committed_ = false;
  Status status_;
  CrlfToLf converter_;
  MboxrdQuoter quoter_;
  uint64_t stored_octets_ = 0;
  char last_stored_ = '\0';
  std::string header_;   // the header block, until the From_ line can be written
  std::string scratch_;  // one chunk after CRLF → LF
  std::string pending_;  // quoted text not yet appended
};

// What must precede the From_ line so that it starts a line after an empty one: an mbox
// written by someone else may not end with "\n\n". Nothing for an empty file.
Result<std::string> separator_before(fs::AppendableFile& file, uint64_t size) {
  if (size == 0) {
    return std::string();
  }
  char tail[2] = {'\n', '\n'};
  const uint64_t want = size >= 2 ? 2 : 1;
  Result<size_t> n = file.read_at(size - want, std::span<char>(tail + (2 - want), want));
  if (!n.is_ok()) {
    return n.status();
  }
  if (*n != want) {
    return Status::temporary("mbox changed size while locked");
  }
  if (tail[1] != '\n') {
    return std::string("\n\n");
  }
  return std::string(tail[0] == '\n' ? "" : "\n");
}

}  // namespace

Result<MessageWriterPtr> begin_mbox_delivery(fs::FileSystem& fs, std::string path,
                                             MboxOptions options) {
  if (!options.envelope_sender.empty() && !is_writable_sender(options.envelope_sender)) {
    return Status::invalid_input(
        "mbox envelope sender must be 1-256 printable ASCII octets without spaces");
  }
  if (path.empty()) {
    return Status::invalid_input("mbox delivery: empty mbox path");
  }
  Result<std::unique_ptr<MboxLock>> lock = MboxLock::take(fs, path, options.lock_wait_ms);
  if (!lock.is_ok()) {
    return lock.status();
  }
  Result<uint64_t> size = (*lock)->file().size();
  if (!size.is_ok()) {
    return size.status();
  }
  Result<std::string> separator = separator_before((*lock)->file(), *size);
  if (!separator.is_ok()) {
    return separator.status();
  }
  return MessageWriterPtr(std::make_unique<MboxWriter>(fs, std::move(path), std::move(options),
                                                       std::move(lock).value(), *size,
                                                       std::move(separator).value()));
}

}  // namespace poplar::store::mbox
