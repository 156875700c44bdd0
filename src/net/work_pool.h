// WorkPool: a few threads for blocking work (password hashes are slow on purpose, maildrop
// scans touch the disk) so that the I/O threads never stall (DESIGN §7).
//
// co_await pool.run(fn) runs fn on a pool thread and resumes the caller on its own executor.
// fn must own (capture by value or shared_ptr) everything it touches: the awaiting coroutine
// may be torn down while fn runs.
//
// Thread-safety: run() may be called from any thread.
#pragma once

#include <cstddef>
#include <utility>

#include "net/asio_config.h"

namespace poplar::net {

class WorkPool {
 public:
  explicit WorkPool(size_t threads) : pool_(threads) {}
  ~WorkPool() { join(); }

  // Not a coroutine itself: GCC 12 destroys temporaries passed to a coroutine inside a
  // co_await expression twice (a heap-use-after-free that ASan found here), so the job is moved
  // straight into co_spawn's own frame. Callers pass a named job, not a temporary lambda.
  template <typename Fn>
  auto run(Fn fn) -> asio::awaitable<decltype(fn())> {
    using R = decltype(fn());
    return asio::co_spawn(
        pool_.get_executor(),
        [fn = std::move(fn)]() mutable -> asio::awaitable<R> { co_return fn(); },
        asio::use_awaitable);
  }

  // Waits for queued work to finish (used at shutdown so that a running UPDATE completes).
  void join() { pool_.join(); }

 private:
  asio::thread_pool pool_;
};

}  // namespace poplar::net
