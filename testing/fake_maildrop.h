// A tiny in-test maildrop for pop3/ tests (not the real memory backend in src/store/memory):
// messages held as strings, sizes computed by the store's size rule, and knobs to make each
// store call fail the way a real store can. Deletions passed to commit_update() are recorded
// in the shared FakeMaildropData so a test can check exactly what UPDATE removed.
//
// Test-only; never linked into `poplar`. No I/O. Thread-safety: none; one test thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "store/maildrop.h"
#include "store/message_reader.h"

namespace poplar::testing {

// The store's size rule (store/maildrop.h, RFC 1939 §11), written independently of
// pop3/dot_stuffer: an LF not preceded by CR counts 2, CRLF counts 2, any other octet (a bare
// CR too) counts 1, and a non-empty message that does not end in LF gets 2 more.
inline uint64_t stored_wire_size(std::string_view stored) {
  uint64_t size = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    if (stored[i] == '\n') {
      size += (i > 0 && stored[i - 1] == '\r') ? 1 : 2;  // the CR was already counted once
    } else {
      size += 1;
    }
  }
  if (!stored.empty() && stored.back() != '\n') {
    size += 2;
  }
  return size;
}

struct FakeMessage {
  std::string content;  // as stored: LF or CRLF line ends, not dot-stuffed
  std::string uidl;
  // open_message() fails with this code (kOk: it succeeds).
  ErrorCode open_error = ErrorCode::kOk;
  // read() fails with kTemporary once this many octets have been returned.
  std::optional<size_t> fail_read_after;
};

// Everything one user's maildrop is, shared between the test and the Maildrop objects it opens.
struct FakeMaildropData {
  std::vector<FakeMessage> messages;
  ErrorCode commit_error = ErrorCode::kOk;
  // Octets per read() call, so replies are produced from many small reads.
  size_t read_chunk_octets = 7;
  // Every commit_update() call, indexes as passed.
  std::vector<std::vector<size_t>> commits;
  int open_count = 0;
  // Sizes the maildrop lists instead of the size rule's, by message index: a store whose
  // recorded size disagrees with the bytes.
  std::map<size_t, uint64_t> listed_sizes;
  // read() calls made after a reader had returned its whole message: the calls that only
  // learn the end (a real file's read(2) returning 0).
  int reads_at_end = 0;
};

class FakeMessageReader final : public store::MessageReader {
 public:
  // `reads_at_end` (may be null) counts the read() calls made once the content is all out.
  FakeMessageReader(std::string content, size_t chunk, std::optional<size_t> fail_after,
                    int* reads_at_end = nullptr)
      : content_(std::move(content)),
        chunk_(std::max<size_t>(chunk, 1)),
        fail_after_(fail_after),
        reads_at_end_(reads_at_end) {}

  Result<size_t> read(std::span<char> out) override {
    if (fail_after_ && pos_ >= *fail_after_) {
      return Status::temporary("fake read error");
    }
    if (pos_ == content_.size() && reads_at_end_ != nullptr) {
      ++*reads_at_end_;
    }
    size_t n = std::min({out.size(), chunk_, content_.size() - pos_});
    if (fail_after_) {
      n = std::min(n, *fail_after_ - pos_);
    }
    std::memcpy(out.data(), content_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string content_;
  size_t chunk_;
  std::optional<size_t> fail_after_;
  int* reads_at_end_;
  size_t pos_ = 0;
};

class FakeMaildrop final : public store::Maildrop {
 public:
  explicit FakeMaildrop(std::shared_ptr<FakeMaildropData> data) : data_(std::move(data)) {
    ++data_->open_count;
    // The UIDL views must outlive changes a test makes to data_ later: they point into this
    // maildrop's own copies, made in full before the first view is taken.
    for (const FakeMessage& m : data_->messages) {
      uidls_.push_back(m.uidl);
    }
    for (size_t i = 0; i < uidls_.size(); ++i) {
      auto listed = data_->listed_sizes.find(i);
      infos_.push_back({listed != data_->listed_sizes.end()
                            ? listed->second
                            : stored_wire_size(data_->messages[i].content),
                        uidls_[i]});
    }
  }

  const std::vector<store::MessageInfo>& messages() const override { return infos_; }

  Result<store::MessageReaderPtr> open_message(size_t index) override {
    const FakeMessage& m = data_->messages.at(index);
    if (m.open_error != ErrorCode::kOk) {
      return Status::error(m.open_error, "fake open_message failure");
    }
    return store::MessageReaderPtr(std::make_unique<FakeMessageReader>(
        m.content, data_->read_chunk_octets, m.fail_read_after, &data_->reads_at_end));
  }

  Status commit_update(std::span<const size_t> deletions) override {
    data_->commits.emplace_back(deletions.begin(), deletions.end());
    if (data_->commit_error != ErrorCode::kOk) {
      return Status::error(data_->commit_error, "fake commit failure: 1 message not removed");
    }
    return Status::ok();
  }

 private:
  std::shared_ptr<FakeMaildropData> data_;
  std::vector<std::string> uidls_;
  std::vector<store::MessageInfo> infos_;
};

}  // namespace poplar::testing
