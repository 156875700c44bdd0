#include "net/connection_limiter.h"

namespace poplar::net {

ConnectionLimiter::Verdict ConnectionLimiter::try_acquire(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) {
    return Verdict::kTooManyTotal;
  }
  uint32_t& count = per_address_[address];
  if (count >= max_per_address_) {
    if (count == 0) {
      per_address_.erase(address);
    }
    return Verdict::kTooManyFromAddress;
  }
  ++count;
  ++total_;
  return Verdict::kAccepted;
}

void ConnectionLimiter::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = per_address_.find(address);
  if (it == per_address_.end()) {
    return;
  }
  if (--it->second == 0) {
    per_address_.erase(it);
  }
  if (total_ > 0) {
    --total_;
  }
}

bool ConnectionLimiter::should_log_refusal(std::chrono::steady_clock::time_point now,
                                           uint64_t& suppressed) {
  std::lock_guard lock(mutex_);
  if (last_refusal_log_ != std::chrono::steady_clock::time_point{} &&
      now - last_refusal_log_ < std::chrono::seconds(1)) {
    ++suppressed_refusals_;
    return false;
  }
  last_refusal_log_ = now;
  suppressed = suppressed_refusals_;
  suppressed_refusals_ = 0;
  return true;
}

uint32_t ConnectionLimiter::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace poplar::net
