// `poplar fetch`'s command line; see fetch_command.h.
#include "fetch/fetch_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/sysexits.h"
#include "config/fetch_accounts.h"
#include "fetch/account_setup.h"
#include "fetch/progress_line.h"
#include "fetch/state_path.h"

namespace poplar::fetch {
namespace {

constexpr int kExUsage = sysexits::kUsage;

struct FetchOptions {
  std::vector<std::string> args;  // one URL, or account names
  std::string account_file;       // -c
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
  std::optional<uint32_t> timeout_s;
  bool discover = false;
  bool quiet = false;
  std::string folder;   // POP4
  std::string move_to;  // POP4
  bool list_folders = false;
};

[[noreturn]] void fail(int code, const std::string& message) {
  std::fprintf(stderr, "poplar fetch: %s\n", message.c_str());
  throw CLI::RuntimeError(code);
}

bool looks_like_url(const std::string& arg) { return arg.find("://") != std::string::npos; }

// The account options given on the command line, for "they belong in the file" messages.
std::vector<std::string> account_options_given(const FetchOptions& o) {
  std::vector<std::string> given;
  auto note = [&](bool present, const char* name) {
    if (present) {
      given.emplace_back(name);
    }
  };
  note(!o.to.empty(), "--to");
  note(!o.password_file.empty(), "--password-file");
  note(!o.ca_file.empty(), "--ca-file");
  note(!o.fingerprint.empty(), "--fingerprint");
  note(o.insecure_plaintext, "--insecure-plaintext");
  note(o.keep, "--keep");
  note(o.remove, "--delete");
  note(o.keep_days.has_value(), "--keep-days");
  note(o.max_size.has_value(), "--max-size");
  note(o.limit.has_value(), "--limit");
  note(!o.state.empty(), "--state");
  note(o.timeout_s.has_value(), "--timeout");
  note(o.discover, "--discover");
  note(!o.folder.empty(), "--folder");
  note(!o.move_to.empty(), "--move-to");
  return given;
}

// The options that mean fetching, which --list-folders does not do.
std::vector<std::string> fetch_options_given(const FetchOptions& o) {
  std::vector<std::string> given;
  auto note = [&](bool present, const char* name) {
    if (present) {
      given.emplace_back(name);
    }
  };
  note(!o.to.empty(), "--to");
  note(o.keep, "--keep");
  note(o.remove, "--delete");
  note(o.keep_days.has_value(), "--keep-days");
  note(o.max_size.has_value(), "--max-size");
  note(o.limit.has_value(), "--limit");
  note(!o.state.empty(), "--state");
  note(!o.folder.empty(), "--folder");
  note(!o.move_to.empty(), "--move-to");
  return given;
}

std::string joined(const std::vector<std::string>& items) {
  std::string list;
  for (const std::string& item : items) {
    list += (list.empty() ? "" : ", ") + item;
  }
  return list;
}

// `poplar fetch URL --to TARGET ...`: the options as one account, so both ways of naming an
// account go through prepare_account.
PreparedAccount account_from_command_line(const FetchOptions& o) {
  if (o.args.size() != 1) {
    fail(kExUsage, "give one URL, or account names from the account file (not both)");
  }
  if (o.to.empty() && !o.list_folders) {
    fail(kExUsage, "--to is required with a URL (maildir:DIR, mbox:FILE or mda:COMMAND)");
  }
  if (int chosen = (o.keep ? 1 : 0) + (o.remove ? 1 : 0) + (o.keep_days ? 1 : 0); chosen > 1) {
    fail(kExUsage, "choose one of --keep, --delete and --keep-days");
  }
  config::FetchAccountConfig c;
  c.url = o.args[0];
  c.target = o.to;
  c.keep = !o.remove;
  c.keep_days = o.keep_days;
  c.max_size = o.max_size;
  c.limit = o.limit;
  c.ca_file = o.ca_file;
  c.fingerprint = o.fingerprint;
  c.insecure_plaintext = o.insecure_plaintext;
  c.discover = o.discover;
  c.state = o.state;
  c.timeout_s = o.timeout_s.value_or(c.timeout_s);
  c.password_file = o.password_file;
  c.folder = o.folder;
  c.move_to = o.move_to;
  Result<PopUrl> url = parse_pop_url(c.url);
  if (!url.is_ok()) {
    fail(kExUsage, url.status().message());
  }
  Result<PreparedAccount> prepared = prepare_account(c, to_string(*url), o.list_folders);
  if (!prepared.is_ok()) {
    fail(kExUsage, prepared.status().message());
  }
  return *prepared;
}

// `poplar fetch [-c FILE] [ACCOUNT...]`: the named accounts (all when none is named).
std::vector<PreparedAccount> accounts_from_file(const FetchOptions& o) {
  if (std::vector<std::string> given = account_options_given(o); !given.empty()) {
    fail(kExUsage,
         joined(given) + ": with an account file these are keys of its [[account]] tables");
  }
  std::string path = o.account_file;
  if (path.empty()) {
    Result<std::string> found = default_account_file();
    if (!found.is_ok()) {
      fail(kExConfig, found.status().message());
    }
    path = *found;
  }
  Result<config::FetchConfig> file = config::load_fetch_config(path, account_validators());
  if (!file.is_ok()) {
    if (file.status().code() == ErrorCode::kNotFound && o.account_file.empty()) {
      fail(kExConfig,
           file.status().message() + " (write accounts there, name a file with -c, or give a URL)");
    }
    fail(kExConfig, file.status().message());
  }
  for (const std::string& wanted : o.args) {
    const bool known = std::any_of(file->accounts.begin(), file->accounts.end(),
                                   [&](const auto& a) { return a.name == wanted; });
    if (!known) {
      fail(kExUsage, "no account named \"" + wanted + "\" in " + path);
    }
  }
  std::vector<PreparedAccount> accounts;
  for (const config::FetchAccountConfig& c : file->accounts) {
    if (!o.args.empty() && std::find(o.args.begin(), o.args.end(), c.name) == o.args.end()) {
      continue;
    }
    Result<PreparedAccount> prepared = prepare_account(c, c.name, o.list_folders);
    if (!prepared.is_ok()) {
      fail(kExConfig, path + ":" + std::to_string(c.line) + ": [[account]] " + c.name + ": " +
                          prepared.status().message());
    }
    accounts.push_back(std::move(prepared).value());
  }
  return accounts;
}

// Several accounts' exit codes as one: a failure that needs a person (anything but 75) wins
// over one that cures itself (75), so cron reports it; among equals, the first account's.
int combined_exit_code(const std::vector<int>& codes) {
  int combined = kExOk;
  for (int code : codes) {
    if (code == kExOk) {
      continue;
    }
    if (combined == kExOk || (combined == kExTempFail && code != kExTempFail)) {
      combined = code;
    }
  }
  return combined;
}

DnsOptions dns_options() {
  DnsOptions dns;
  // A test hook: the integration tests answer SRV queries from a server on loopback.
  if (const char* server = std::getenv("POPLAR_DNS_SERVER"); server != nullptr) {
    dns.nameserver = server;
  }
  return dns;
}

// `poplar fetch --list-folders URL` or `-c FILE ACCOUNT`: LFLD's answer, one folder a line:
// messages, octets, then the name (last, so names with spaces need no quoting; control
// characters, bytes >= 0x80 and "\" are escaped as in every server text shown).
int list_folders(const PreparedAccount& account) {
  const DnsOptions dns = dns_options();
  FetchSummary summary = run_account(account, /*now_unix=*/0, dns);
  for (const pop3::FolderListing& f : summary.folders) {
    std::printf("%10llu %14llu  %s\n", static_cast<unsigned long long>(f.messages),
                static_cast<unsigned long long>(f.octets),
                pop3::sanitize_server_text(f.name).c_str());
  }
  std::fflush(stdout);
  if (!summary.status.is_ok()) {
    std::fprintf(stderr, "poplar fetch: %s: %s\n", account.name.c_str(),
                 summary.status.message().c_str());
  }
  return summary.exit_code;
}

int run(const FetchOptions& o) {
  const bool url_mode = o.account_file.empty() && !o.args.empty() && looks_like_url(o.args[0]);
  if (o.list_folders) {
    if (std::vector<std::string> given = fetch_options_given(o); !given.empty()) {
      fail(kExUsage, joined(given) + ": not with --list-folders, which fetches nothing");
    }
  }
  std::vector<PreparedAccount> accounts;
  if (url_mode) {
    accounts.push_back(account_from_command_line(o));
  } else {
    accounts = accounts_from_file(o);
  }
  if (o.list_folders) {
    if (accounts.size() != 1) {
      fail(kExUsage, "--list-folders lists one account's folders: name one account");
    }
    return list_folders(accounts[0]);
  }
  std::vector<std::string> names;
  for (const PreparedAccount& a : accounts) {
    names.push_back(a.name);
  }
  ProgressLine progress_line(names, !o.quiet && ::isatty(STDERR_FILENO) == 1);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const DnsOptions dns = dns_options();
  std::vector<int> exit_codes(accounts.size(), kExOk);
  auto run_one = [&](size_t i) {
    const PreparedAccount& account = accounts[i];
    ProgressFn progress = [&progress_line, i](uint32_t done, uint32_t total, uint64_t octets) {
      progress_line.update(i, done, total, octets);
    };
    FetchSummary summary = run_account(account, now, dns, progress);
    progress_line.finish(i);
    if (!o.quiet) {
      const FetchAccount& a = account.account;
      std::string name = account.name;
      if (!a.folder.empty() && !pop3::is_inbox(a.folder)) {
        name += " (" + pop3::sanitize_server_text(a.folder) + ")";
      }
      const std::string removed = a.move_to.empty() ? std::to_string(summary.deleted) + " deleted"
                                                    : std::to_string(summary.moved) + " moved to " +
                                                          pop3::sanitize_server_text(a.move_to);
      std::string line = name + ": " + std::to_string(summary.fetched) + " new, " + removed + ", " +
                         std::to_string(summary.errors) + " errors";
      if (summary.skipped > 0) {
        line += ", " + std::to_string(summary.skipped) + " skipped";
      }
      progress_line.print(stdout, line);
    }
    for (const std::string& warning : summary.warnings) {
      progress_line.print(stderr, "poplar fetch: " + account.name + ": warning: " + warning);
    }
    if (!summary.status.is_ok()) {
      progress_line.print(stderr,
                          "poplar fetch: " + account.name + ": " + summary.status.message());
    }
    exit_codes[i] = summary.exit_code;
  };
  // Each account on its own thread with its own connection (fetch/server_stream.h): a slow
  // server or a long fsync holds up only its own account.
  std::vector<std::thread> threads;
  for (size_t i = 1; i < accounts.size(); ++i) {
    threads.emplace_back(run_one, i);
  }
  if (!accounts.empty()) {
    run_one(0);
  }
  for (std::thread& t : threads) {
    t.join();
  }
  progress_line.close();
  return combined_exit_code(exit_codes);
}

}  // namespace

void add_fetch_command(CLI::App& app) {
  auto o = std::make_shared<FetchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "fetch", "Download mail from POP3 servers into a Maildir, an mbox or a command");
  cmd->add_option("url_or_accounts", o->args,
                  "pop://USER[;AUTH=MECH]@HOST[:PORT] or pops://... (RFC 2384), or the names of "
                  "accounts in the account file (all of them when none is named)");
  cmd->add_option("-c,--config", o->account_file,
                  "Account file (default: $XDG_CONFIG_HOME/poplar/fetch.toml)");
  cmd->add_option("--to", o->to, "maildir:DIR, mbox:FILE or mda:COMMAND (with a URL)");
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
  cmd->add_option("--timeout", o->timeout_s, "Network timeout in seconds (default 120)");
  cmd->add_flag("--discover", o->discover,
                "Find the server of the URL's domain by its SRV records (RFC 6186)");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress and no summary; errors only");
  cmd->add_option("--folder", o->folder,
                  "Fetch from this POP4 folder instead of INBOX (needs X-POP4 FOLDERS)");
  cmd->add_option("--move-to", o->move_to,
                  "Move messages to this POP4 folder instead of deleting them (with --delete or "
                  "--keep-days)");
  cmd->add_flag("--list-folders", o->list_folders,
                "List the account's POP4 folders (messages, octets, name) and exit");
  cmd->callback([o] {
    int code = run(*o);
    if (code != 0) {
      throw CLI::RuntimeError(code);
    }
  });
}

}  // namespace poplar::fetch
