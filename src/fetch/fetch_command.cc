// `poplar fetch`'s command line; see fetch_command.h.
#include "fetch/fetch_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "fetch/fetch_run.h"
#include "fetch/pop_url.h"
#include "tls/tls_context.h"

namespace poplar::fetch {
namespace {

constexpr int kExUsage = 64;

struct FetchOptions {
  std::string url;
  std::string to;
  std::string password_file;
  std::string ca_file;
  std::string fingerprint;
  bool insecure_plaintext = false;
  bool keep = false;
  bool remove = false;
  std::optional<uint32_t> keep_days;
  std::optional<uint64_t> max_size;
  std::optional<uint32_t> limit;
  std::string state;
  uint32_t timeout_s = 120;
  bool quiet = false;
};

[[noreturn]] void fail(int code, const std::string& message) {
  std::fprintf(stderr, "poplar fetch: %s\n", message.c_str());
  throw CLI::RuntimeError(code);
}

Secret read_password(const FetchOptions& o) {
  if (!o.password_file.empty()) {
    std::ifstream in(o.password_file, std::ios::binary);
    if (!in) {
      fail(kExConfig, "cannot read the password file " + o.password_file);
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    Secret secret(line);
    std::fill(line.begin(), line.end(), '\0');
    return secret;
  }
  if (const char* env = std::getenv("POPLAR_PASSWORD"); env != nullptr) {
    return Secret(env);
  }
  fail(kExConfig, "no password: give --password-file FILE or set POPLAR_PASSWORD");
}

int run(const FetchOptions& o) {
  FetchAccount account;
  auto url = parse_pop_url(o.url);
  if (!url.is_ok()) {
    fail(kExUsage, url.status().message());
  }
  account.url = *url;
  if (account.url.user.empty()) {
    fail(kExUsage, "the URL names no user (pop://USER@HOST)");
  }
  auto target = parse_target(o.to);
  if (!target.is_ok()) {
    fail(kExUsage, target.status().message());
  }
  account.target = *target;
  if (int chosen = (o.keep ? 1 : 0) + (o.remove ? 1 : 0) + (o.keep_days ? 1 : 0); chosen > 1) {
    fail(kExUsage, "choose one of --keep, --delete and --keep-days");
  }
  if (o.remove) {
    account.policy.keep = FetchPolicy::Keep::kDelete;
  } else if (o.keep_days) {
    account.policy.keep = FetchPolicy::Keep::kKeepDays;
    account.policy.keep_days = *o.keep_days;
  }
  account.policy.max_octets = o.max_size;
  account.policy.limit = o.limit;
  account.ca_file = o.ca_file;
  if (!o.fingerprint.empty()) {
    auto pin = tls::parse_fingerprint(o.fingerprint);
    if (!pin.is_ok()) {
      fail(kExUsage, "--fingerprint: " + pin.status().message());
    }
    account.fingerprint_sha256 = *pin;
  }
  account.insecure_plaintext = o.insecure_plaintext;
  account.state_path = o.state;
  account.timeouts.io = std::chrono::seconds(o.timeout_s);
  account.timeouts.connect = std::chrono::seconds(std::min<uint32_t>(o.timeout_s, 30));
  account.password = read_password(o);

  const std::string name = to_string(account.url);
  const bool show_progress = !o.quiet && ::isatty(STDERR_FILENO) == 1;
  ProgressFn progress;
  if (show_progress) {
    progress = [&name](uint32_t done, uint32_t total, uint64_t octets) {
      std::fprintf(stderr, "\r%s: %u/%u messages, %.1f MB", name.c_str(), done, total,
                   static_cast<double>(octets) / 1e6);
      std::fflush(stderr);
    };
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  FetchSummary summary = run_fetch(account, now, progress);
  if (show_progress) {
    std::fprintf(stderr, "\n");
  }
  if (!o.quiet) {
    std::printf(
        "%s: %u new, %u deleted, %u errors%s\n", name.c_str(), summary.fetched, summary.deleted,
        summary.errors,
        summary.skipped > 0 ? (", " + std::to_string(summary.skipped) + " skipped").c_str() : "");
    std::fflush(stdout);
  }
  if (!summary.status.is_ok()) {
    std::fprintf(stderr, "poplar fetch: %s: %s\n", name.c_str(), summary.status.message().c_str());
  }
  return summary.exit_code;
}

}  // namespace

void add_fetch_command(CLI::App& app) {
  auto o = std::make_shared<FetchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "fetch", "Download mail from a POP3 server into a Maildir, an mbox or a command");
  cmd->add_option("url", o->url, "pop://USER[;AUTH=MECH]@HOST[:PORT] or pops://... (RFC 2384)")
      ->required();
  cmd->add_option("--to", o->to, "maildir:DIR, mbox:FILE or mda:COMMAND")->required();
  cmd->add_option("--password-file", o->password_file,
                  "File whose first line is the password (else $POPLAR_PASSWORD)");
  cmd->add_option("--ca-file", o->ca_file, "Trust this CA (PEM) instead of the system's");
  cmd->add_option("--fingerprint", o->fingerprint,
                  "Pin the server certificate by its SHA-256 (hex, colons optional)");
  cmd->add_flag("--insecure-plaintext", o->insecure_plaintext,
                "Allow pop:// without STLS and passwords in the clear");
  cmd->add_flag("--keep", o->keep, "Leave messages on the server (the default)");
  cmd->add_flag("--delete", o->remove, "Delete messages from the server once delivered");
  cmd->add_option("--keep-days", o->keep_days,
                  "Delete messages first seen at least N days ago (0: once delivered)");
  cmd->add_option("--max-size", o->max_size, "Skip messages larger than this (octets)");
  cmd->add_option("--limit", o->limit, "Fetch at most N new messages in this run");
  cmd->add_option("--state", o->state, "State file (default: $XDG_STATE_HOME/poplar/fetch/...)");
  cmd->add_option("--timeout", o->timeout_s, "Network timeout in seconds")->capture_default_str();
  cmd->add_flag("-q,--quiet", o->quiet, "No progress and no summary; errors only");
  cmd->callback([o] {
    int code = run(*o);
    if (code != 0) {
      throw CLI::RuntimeError(code);
    }
  });
}

}  // namespace poplar::fetch
