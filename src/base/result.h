// Result<T>: a T or a non-OK Status. GCC 12 has no std::expected in C++20 mode, so this is the
// small stand-in. Accessing value() of an error is a programming error and aborts.
//
// Thread-safety: a value type.
#pragma once

#include <cstdlib>
#include <optional>
#include <utility>

#include "base/status.h"

namespace poplar {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design, like expected
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.is_ok()) {
      std::abort();  // an OK status without a value is a bug in the caller
    }
  }

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }

  T& value() & {
    check();
    return *value_;
  }
  const T& value() const& {
    check();
    return *value_;
  }
  T&& value() && {
    check();
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void check() const {
    if (!value_.has_value()) {
      std::abort();
    }
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace poplar
