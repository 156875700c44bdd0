// `poplar fetch`: the command line of the POP3 client (DESIGN §6, docs/fetch.md).
//
//   poplar fetch URL --to TARGET [--password-file FILE] [--ca-file FILE] [--fingerprint SHA256]
//                [--insecure-plaintext] [--keep | --delete | --keep-days N] [--max-size OCTETS]
//                [--limit N] [--state FILE] [--timeout SECONDS] [-q]
//
// The password comes from --password-file (its first line) or the POPLAR_PASSWORD environment
// variable, never from the command line. Output: a progress line on a terminal, then one
// summary line ("pop://alice@host: 3 new, 2 deleted, 0 errors") unless -q; errors on stderr.
// Exit codes: fetch/fetch_run.h (sysexits), 64 for a bad command line.
//
// Thread-safety: runs on the main thread.
#pragma once

namespace CLI {
class App;
}

namespace poplar::fetch {

void add_fetch_command(CLI::App& app);

}  // namespace poplar::fetch
