// Secret: a password or other credential. It is wiped when destroyed or reassigned, it has no
// operator<< and no implicit conversion to a string, so it cannot end up in a log line or a
// Status by accident. Read it only where it is needed, through view().
//
// Thread-safety: a value type.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace poplar {

// Overwrites n bytes at p in a way the optimiser may not remove.
void secure_wipe(void* p, size_t n);

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view text) : text_(text) {}
  Secret(const Secret& other) : text_(other.text_) {}
  Secret(Secret&& other) noexcept : text_(std::move(other.text_)) { other.wipe(); }
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      wipe();
      text_ = other.text_;
    }
    return *this;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      wipe();
      text_ = std::move(other.text_);
      other.wipe();
    }
    return *this;
  }
  ~Secret() { wipe(); }

  std::string_view view() const { return text_; }
  bool empty() const { return text_.empty(); }
  size_t size() const { return text_.size(); }

  void wipe() {
    if (!text_.empty()) {
      secure_wipe(text_.data(), text_.size());
    }
    text_.clear();
  }

 private:
  std::string text_;
};

}  // namespace poplar
