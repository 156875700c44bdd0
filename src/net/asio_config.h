// The one place net/ includes Asio, with the settings Poplar uses: standalone Asio from
// Debian (libasio-dev 1.22), C++20 coroutines, errors as values via as_tuple.
#pragma once

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

namespace poplar::net {

// co_await op(..., kUseTuple) yields std::tuple<error_code, ...> instead of throwing.
inline constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace poplar::net
