// Where `poplar fetch` keeps its files when nothing says otherwise (XDG Base Directory spec).
//
// The account file: $XDG_CONFIG_HOME/poplar/fetch.toml, or $HOME/.config/poplar/fetch.toml.
//
// A fetch account's state file, when --state does not say:
//   $XDG_STATE_HOME/poplar/fetch/<name>.state, or $HOME/.local/state/poplar/fetch/<name>.state
// when XDG_STATE_HOME is unset, empty or relative (the XDG Base Directory spec says to ignore a
// relative value). <name> is the canonical URL (fetch/pop_url.h) with every octet outside
// [A-Za-z0-9._@-] written as %XX, so "pops://bob@mail.example.org" becomes
// "pops%3A%2F%2Fbob@mail.example.org.state". Because '%' itself is encoded, distinct URLs
// give distinct names. See docs/formats/fetch-state.md.
//
// A POP4 folder other than INBOX (--folder) has its own state: its key is the canonical URL
// followed by "/" and the folder name %-encoded (fetch_state_key), the form of an IMAP URL's
// mailbox (RFC 5092), so the file name differs too. INBOX keeps the plain URL, so state files
// written before folders existed keep working unchanged.
//
// Must never: create anything (fetch/fetch_state.h creates missing directories).
//
// Thread-safety: pure functions; the environment is read through the given lookup.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "fetch/pop_url.h"

namespace poplar::fetch {

// Returns the value of an environment variable, or nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The process environment (getenv).
EnvLookup process_environment();

// The key of an account's state (FetchState's header): the canonical URL, and for a folder that
// is not INBOX (any case) "/" and the folder, every octet outside [A-Za-z0-9._~/-] as %XX:
// "pops://bob@mail.example.org/Sent%20Items".
std::string fetch_state_key(const PopUrl& url, std::string_view folder);

// The file-name-safe form of a canonical URL (or a state key), without the ".state" suffix.
std::string state_file_name(std::string_view canonical_url);

// Errors: kInvalidInput when neither XDG_STATE_HOME (absolute) nor HOME (absolute) is set, or
// when the file name would be longer than NAME_MAX allows (then --state must name the file).
Result<std::string> default_state_path(const PopUrl& url,
                                       const EnvLookup& env = process_environment());
// The same for the state of one POP4 folder (its name from fetch_state_key); INBOX or empty:
// the URL's own file.
Result<std::string> default_state_path(const PopUrl& url, std::string_view folder,
                                       const EnvLookup& env = process_environment());

// The account file read by `poplar fetch` without -c. Errors: kInvalidInput when neither
// XDG_CONFIG_HOME (absolute) nor HOME (absolute) is set.
Result<std::string> default_account_file(const EnvLookup& env = process_environment());

}  // namespace poplar::fetch
