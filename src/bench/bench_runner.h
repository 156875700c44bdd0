// The load generator's engine: --threads event loops (one asio::io_context and one thread
// each), --connections clients spread over them round-robin, each client a coroutine that runs
// sessions of the scenario back to back against one server, verifying every reply.
//
// Speed matters as much as honesty here (the generator shares the machine with the server it
// measures): few system calls per reply; 256 KiB read buffers (64 KiB with very many
// connections) reused for every session, and none at all for idle connections, which share one
// per loop, so an idle one costs well under a KiB; memchr scanning in
// pop3::ClientResponseParser and no allocation per line or message; TCP_NODELAY; a write sent
// at once and awaited only if the socket is full; pipelined RETRs in one write; counters per
// connection and latencies in a per-loop histogram, added up at the end.
//
// Users: the users of the file are dealt out to the loops like the connections, and within a
// loop a connection takes the next free user and gives it back after its session, so a user is
// never in two sessions at once (POP3 maildrops are locked exclusively: RFC 1939 §8,
// "[IN-USE]"). REQUIRES: connections <= users.
//
// Never: send DELE (nothing is ever deleted); print a password.
//
// Thread-safety: run_bench() blocks the calling thread; the hooks are called on it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_options.h"
#include "bench/bench_report.h"

struct ssl_ctx_st;

namespace poplar::bench {

struct RunHooks {
  // idle: every connection has logged in or given up; logged_in of them hold a session.
  std::function<void(uint32_t logged_in)> on_ready;
  // idle: returns when the sessions should end (stdin at EOF or --duration elapsed).
  std::function<void()> hold;
};

struct RunOutcome {
  RunReport report;
  // False when no connection could be made at all (exit 69 or 75); connect_error says why.
  bool any_connected = false;
  bool connect_timed_out = false;
  std::string connect_error;
};

// Runs the plan to its end. tls_ctx is required when plan.tls is not kNone.
// REQUIRES: users.size() >= plan.connections, plan.threads <= plan.connections.
RunOutcome run_bench(const BenchPlan& plan, const std::vector<Credential>& users,
                     ssl_ctx_st* tls_ctx, const RunHooks& hooks);

}  // namespace poplar::bench
