// From an account's description (a [[account]] table of the account file, or the command line
// of `poplar fetch URL --to ...`, both as a config::FetchAccountConfig) to a finished run:
// check and convert it once (prepare_account), then, on the account's own thread, read the
// password, look the server up by SRV when asked (RFC 6186), and run the fetch (run_account).
// One path for both ways of naming an account, so they cannot drift apart.
//
// Must never: read the password before the account is known to be well-formed; put the
// password in a message.
//
// Thread-safety: prepare_account is a pure function; run_account may run on many threads at
// once, one account each.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "config/fetch_accounts.h"
#include "fetch/fetch_run.h"
#include "fetch/password_source.h"
#include "fetch/srv_discovery.h"

namespace poplar::fetch {

struct PreparedAccount {
  std::string name;      // the [[account]] name, or the canonical URL on the command line
  FetchAccount account;  // everything but the password
  PasswordSource password;
  bool discover = false;
};

// The URL, target and fingerprint checks, for the account file's parser.
config::FetchAccountValidators account_validators();

// With list_folders the account only lists its POP4 folders: no target is needed.
// Errors: kInvalidInput naming what is wrong (a URL without a user and no `user`, a bad URL,
// target, fingerprint or folder, --move-to into the folder fetched or with a keep policy; the
// file's parser has usually reported the first ones with their line).
Result<PreparedAccount> prepare_account(const config::FetchAccountConfig& config,
                                        const std::string& name, bool list_folders = false);

// Reads the password, discovers the servers when asked, runs the fetch. Failures before the
// fetch come back in the summary like the fetch's own: a password source that fails
// temporarily is EX_TEMPFAIL, any other EX_CONFIG; discovery as discovery_exit_code() says.
FetchSummary run_account(const PreparedAccount& prepared, int64_t now_unix, const DnsOptions& dns,
                         const ProgressFn& progress = nullptr);

// SRV discovery failures: kTemporary -> EX_TEMPFAIL, kUnavailable (the domain says "no POP3
// here") -> EX_UNAVAILABLE, the rest (no records, a bad name) -> EX_CONFIG.
int discovery_exit_code(const Status& status);

}  // namespace poplar::fetch
