// Dotlock + fcntl lock of an mbox; see mbox_lock.h.
//
// Must never: remove a dotlock younger than kStaleDotlockNs.
//
// Thread-safety: one object per thread; sleeps the calling thread while it waits.
#include "store/mbox/mbox_lock.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

namespace poplar::store::mbox {
namespace {

// Between two attempts at a held lock: short enough that a waiting delivery follows a quick
// one closely, long enough not to spin.
constexpr int64_t kRetryNs = 50'000'000;

// Attempts at a stale or vanishing dotlock without sleeping, so two processes that break the
// same stale lock at once cannot loop forever.
constexpr int kImmediateRetries = 8;

constexpr uint32_t kFileMode = 0600;

class Deadline {
 public:
  Deadline(fs::FileSystem& fs, int64_t wait_ms)
      : fs_(fs), end_ns_(fs.now_ns() + std::max<int64_t>(wait_ms, 0) * 1'000'000) {}

  // Sleeps a retry interval (or what is left of the wait); false when the wait is over.
  bool wait_a_little() {
    int64_t left = end_ns_ - fs_.now_ns();
    if (left <= 0) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(left, kRetryNs)));
    return true;
  }

 private:
  fs::FileSystem& fs_;
  int64_t end_ns_;
};

// Creates the dotlock, breaking a stale one. Returns OK when this process holds it.
Status take_dotlock(fs::FileSystem& fs, const std::string& path, Deadline& deadline) {
  int immediate = 0;
  for (;;) {
    Result<fs::WritableFilePtr> created = fs.create_new_file(path, kFileMode);
    if (created.is_ok()) {
      if (Status closed = (*created)->close(); !closed.is_ok()) {
        (void)fs.unlink(path);
        return closed;
      }
      return Status::ok();
    }
    if (created.status().code() != ErrorCode::kInUse) {
      return created.status();
    }
    Result<fs::FileInfo> info = fs.stat(path);
    if (immediate < kImmediateRetries) {
      if (!info.is_ok() && info.status().code() == ErrorCode::kNotFound) {
        ++immediate;  // released between our create and our stat
        continue;
      }
      if (info.is_ok() && fs.now_ns() - info->mtime_ns > kStaleDotlockNs) {
        ++immediate;
        Status removed = fs.unlink(path);
        if (!removed.is_ok() && removed.code() != ErrorCode::kNotFound) {
          return removed;
        }
        continue;
      }
    }
    if (!deadline.wait_a_little()) {
      return Status::in_use("mbox is locked: " + path + " exists (another program is writing)");
    }
  }
}

}  // namespace

Result<std::unique_ptr<MboxLock>> MboxLock::take(fs::FileSystem& fs, std::string mbox_path,
                                                 int64_t wait_ms) {
  std::string dotlock = mbox_path + ".lock";
  std::unique_ptr<MboxLock> lock(new MboxLock(fs, std::move(mbox_path), std::move(dotlock)));
  Deadline deadline(fs, wait_ms);
  if (Status taken = take_dotlock(fs, lock->dotlock_path_, deadline); !taken.is_ok()) {
    return taken;
  }
  lock->holds_dotlock_ = true;
  Result<fs::AppendableFilePtr> file = fs.open_for_append(lock->mbox_path_, kFileMode);
  if (!file.is_ok()) {
    return file.status();  // the destructor removes the dotlock
  }
  lock->file_ = std::move(file).value();
  for (;;) {
    Status locked = lock->file_->lock();
    if (locked.is_ok()) {
      return lock;
    }
    if (locked.code() != ErrorCode::kInUse || !deadline.wait_a_little()) {
      return locked;
    }
  }
}

MboxLock::~MboxLock() { (void)release(); }

Status MboxLock::release() {
  Status closed;
  if (file_ != nullptr) {
    closed = file_->close();
    file_.reset();
  }
  if (holds_dotlock_) {
    holds_dotlock_ = false;
    (void)fs_.unlink(dotlock_path_);
  }
  return closed;
}

}  // namespace poplar::store::mbox
