// `poplar bench`. See bench_command.h.
//
// Thread-safety: see bench_command.h.
#include "bench/bench_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "bench/bench_report.h"
#include "bench/bench_runner.h"
#include "bench/tls_client.h"

namespace poplar::bench {
namespace {

// Descriptors the process needs besides one per connection (stdio, epoll, eventfds, the
// users file, OpenSSL's reads of CA files).
constexpr rlim_t kSpareDescriptors = 64;

void say(const std::string& message) {
  std::fprintf(stderr, "poplar bench: %s\n", message.c_str());
}

// Idle runs hold 10,000 connections and more: the soft limit (often 1024) goes up to the hard
// one. Says so when even that is not enough.
void raise_open_file_limit(uint32_t connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    }
  }
  const rlim_t needed = static_cast<rlim_t>(connections) + kSpareDescriptors;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    say("the open-file limit is " + std::to_string(limit.rlim_cur) + " (hard limit " +
        std::to_string(limit.rlim_max) + "), below the " + std::to_string(needed) + " that " +
        std::to_string(connections) +
        " connections need: some connections will fail (raise it with ulimit -n)");
  }
}

// idle: blocks until stdin reaches EOF or duration_s passes. The reader thread is detached:
// when the duration ends first it stays blocked in read() until the process exits.
void hold_until_eof_or(double duration_s) {
  struct State {
    std::mutex mutex;
    std::condition_variable done;
    bool eof = false;
  };
  auto state = std::make_shared<State>();
  std::thread([state] {
    char buffer[4096];
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (n > 0 || (n < 0 && errno == EINTR)) {
        continue;
      }
      break;
    }
    std::lock_guard lock(state->mutex);
    state->eof = true;
    state->done.notify_all();
  }).detach();
  std::unique_lock lock(state->mutex);
  state->done.wait_for(lock, std::chrono::duration<double>(duration_s), [&] { return state->eof; });
}

}  // namespace

int run_bench_command(const BenchOptions& options) {
  auto planned = make_plan(options);
  if (!planned) {
    say(planned.status().message() + " (poplar bench --help lists the options)");
    return kExitUsage;
  }
  BenchPlan plan = std::move(*planned);
  for (const auto& note : plan.notes) {
    say(note);
  }
  auto users = load_users_file(plan.users_file);
  if (!users) {
    say(users.status().message());
    return users.status().code() == ErrorCode::kInvalidInput ? kExitDataErr : kExitNoInput;
  }
  // A maildrop is locked by its session (RFC 1939 §8): two connections must never use one user
  // at once, so there can be no more connections than users.
  if (users->size() < plan.connections) {
    say("only " + std::to_string(users->size()) + " users in " + plan.users_file + ": using " +
        std::to_string(users->size()) + " connections instead of " +
        std::to_string(plan.connections));
    plan.connections = static_cast<uint32_t>(users->size());
  }
  if (plan.threads > plan.connections) {
    say("using " + std::to_string(plan.connections) + " threads, one per connection");
    plan.threads = plan.connections;
  }
  tls::SslCtxPtr tls_ctx;
  if (plan.tls != TlsMode::kNone) {
    auto made = make_bench_tls_context(plan.ca_file, plan.insecure_tls);
    if (!made) {
      say(made.status().message());
      return kExitNoInput;
    }
    tls_ctx = std::move(*made);
  }
  raise_open_file_limit(plan.connections);
  // A server that closes while we write must not kill us (OpenSSL writes with write(2)).
  std::signal(SIGPIPE, SIG_IGN);

  RunHooks hooks;
  if (plan.scenario == Scenario::kIdle) {
    hooks.on_ready = [](uint32_t logged_in) {
      std::printf("ready logged_in=%u\n", logged_in);
      std::fflush(stdout);
    };
    const double duration_s = plan.duration_s;
    hooks.hold = [duration_s] { hold_until_eof_or(duration_s); };
  }
  RunOutcome outcome = run_bench(plan, *users, tls_ctx.get(), hooks);

  const std::string line = format_result_line(outcome.report);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  if (!outcome.any_connected) {
    say("could not connect to " + plan.host + " port " + std::to_string(plan.port) + ": " +
        (outcome.connect_error.empty() ? "no connection attempt succeeded"
                                       : outcome.connect_error));
    return outcome.connect_timed_out ? kExitTempFail : kExitUnavailable;
  }
  const Counters& c = outcome.report.counters;
  return c.errors == 0 && c.verify_failures == 0 ? kExitOk : kExitFailures;
}

void add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Load generator: drive a POP3 server (Poplar, Dovecot, ...) with many connections, verify "
      "every reply, print one result line (docs/bench.md)");
  cmd->add_option("--host", options->host, "Server host name or IP address")->type_name("HOST");
  cmd->add_option("--port", options->port, "Server port")->type_name("PORT");
  cmd->add_option("--scenario", options->scenario,
                  "login | retr | retr-pipelined | uidl | list | idle")
      ->type_name("SCENARIO");
  cmd->add_option("--users-file", options->users_file,
                  "One user:password per line; each connection uses one user at a time")
      ->type_name("FILE");
  cmd->add_option("--connections", options->connections,
                  "Concurrent connections (at most one per user)")
      ->type_name("N")
      ->capture_default_str();
  CLI::Option* duration =
      cmd->add_option("--duration", options->duration_s,
                      "Seconds to run login/uidl/list, or to hold idle sessions")
          ->type_name("SECONDS")
          ->capture_default_str();
  cmd->add_option("--sessions", options->sessions,
                  "login/uidl/list: stop after N completed sessions in total")
      ->type_name("N");
  cmd->add_option("--passes", options->passes,
                  "retr, retr-pipelined: fetch each user's maildrop N times")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--pipeline-depth", options->pipeline_depth,
                  "retr-pipelined: RETRs in flight per connection (0 = all messages at once)")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--tls", options->tls, "none | starttls | implicit")
      ->type_name("MODE")
      ->capture_default_str();
  cmd->add_option("--ca-file", options->ca_file, "CA certificates (PEM) to verify the server by")
      ->type_name("FILE");
  cmd->add_flag("--insecure-tls", options->insecure_tls,
                "Do not verify the server's certificate or name");
  cmd->add_option("--threads", options->threads, "Client event-loop threads")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--label", options->label, "Copied into the result line (label=...)")
      ->type_name("TEXT");
  cmd->footer(
      "Exit codes: 0 no errors, 1 errors or verify failures, 64 bad arguments, 65 bad users "
      "file,\n66 unreadable users or CA file, 69 could not connect, 75 could not connect in "
      "time.");
  cmd->callback([options, duration] {
    options->duration_given = duration->count() > 0;
    int code = run_bench_command(*options);
    if (code != kExitOk) {
      throw CLI::RuntimeError(code);
    }
  });
}

}  // namespace poplar::bench
