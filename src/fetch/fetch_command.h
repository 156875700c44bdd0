// `poplar fetch`: the command line of the POP3 client (DESIGN §6, docs/fetch.md).
//
//   poplar fetch URL --to TARGET [--password-file FILE] [--ca-file FILE] [--fingerprint SHA256]
//                [--insecure-plaintext] [--keep | --delete | --keep-days N] [--max-size OCTETS]
//                [--limit N] [--state FILE] [--timeout SECONDS] [--discover] [-q]
//   poplar fetch [-c FILE] [ACCOUNT...] [-q]
//
// The first form fetches one account named by its URL; the second the accounts of an account
// file (config/fetch_accounts.h; default $XDG_CONFIG_HOME/poplar/fetch.toml), the named ones or
// all, in parallel, one thread and connection each. Both go through fetch/account_setup.h.
// Passwords come from a file, a command or POPLAR_PASSWORD, never from the command line.
// Output: a progress line on a terminal (fetch/progress_line.h), then one summary line per
// account ("work: 3 new, 2 deleted, 0 errors") unless -q; errors on stderr. Exit codes:
// fetch/fetch_run.h (sysexits), 64 for a bad command line; with several accounts the most
// serious (anything but 75 beats 75; then the first account's).
//
// Thread-safety: parses on the main thread; accounts run on their own threads.
#pragma once

namespace CLI {
class App;
}

namespace poplar::fetch {

void add_fetch_command(CLI::App& app);

}  // namespace poplar::fetch
