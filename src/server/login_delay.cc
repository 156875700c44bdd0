#include "server/login_delay.h"

namespace poplar::server {

bool LoginDelay::allowed(const std::string& user) {
  if (delay_.count() == 0) {
    return true;
  }
  auto now = clock_.now();
  std::lock_guard lock(mutex_);
  auto it = last_login_.find(user);
  return it == last_login_.end() || now - it->second >= delay_;
}

void LoginDelay::record(const std::string& user) {
  if (delay_.count() == 0) {
    return;
  }
  auto now = clock_.now();
  std::lock_guard lock(mutex_);
  if (now - last_sweep_ > delay_) {
    sweep(now);
  }
  last_login_[user] = now;
}

void LoginDelay::sweep(std::chrono::steady_clock::time_point now) {
  last_sweep_ = now;
  std::erase_if(last_login_, [&](const auto& entry) { return now - entry.second >= delay_; });
}

}  // namespace poplar::server
