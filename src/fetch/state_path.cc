// The default location of a fetch state file (see state_path.h).
#include "fetch/state_path.h"

#include <cstdlib>

#include "pop3/client_session_folders.h"

namespace poplar::fetch {
namespace {

// 255 is NAME_MAX on Linux file systems; ".state" takes 6 of it.
constexpr size_t kMaxNameLength = 255 - 6;

bool is_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '@';
}

// $VARIABLE when it is an absolute path (the spec says to ignore a relative one), else
// $HOME + fallback; nullopt when neither is absolute. Without trailing slashes.
std::optional<std::string> xdg_base(const EnvLookup& env, const char* variable,
                                    std::string_view fallback) {
  std::string base;
  auto xdg = env(variable);
  if (xdg.has_value() && xdg->starts_with('/')) {
    base = *xdg;
  } else {
    auto home = env("HOME");
    if (!home.has_value() || !home->starts_with('/')) {
      return std::nullopt;
    }
    base = *home + std::string(fallback);
  }
  while (base.size() > 1 && base.ends_with('/')) {
    base.pop_back();
  }
  return base;
}

// Octets of a folder name kept as they are in a state key (RFC 3986 unreserved, and "/" as the
// hierarchy separator, as in RFC 5092's IMAP URLs); never white space or controls, which a
// FetchState key must not hold.
bool is_key_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '~' || c == '-' || c == '/';
}

}  // namespace

std::string fetch_state_key(const PopUrl& url, std::string_view folder) {
  std::string key = to_string(url);
  if (!folder.empty() && !pop3::is_inbox(folder)) {
    key += "/" + percent_encode(folder, is_key_safe);
  }
  return key;
}

EnvLookup process_environment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

std::string state_file_name(std::string_view canonical_url) {
  return percent_encode(canonical_url, is_safe);
}

Result<std::string> default_state_path(const PopUrl& url, const EnvLookup& env) {
  return default_state_path(url, "", env);
}

Result<std::string> default_state_path(const PopUrl& url, std::string_view folder,
                                       const EnvLookup& env) {
  std::optional<std::string> base = xdg_base(env, "XDG_STATE_HOME", "/.local/state");
  if (!base) {
    return Status::invalid_input(
        "cannot place the fetch state file: neither XDG_STATE_HOME nor HOME is an absolute "
        "path; name the file with --state");
  }
  std::string name = state_file_name(fetch_state_key(url, folder));
  if (name.size() > kMaxNameLength) {
    return Status::invalid_input(
        "the account's URL is too long to name its fetch state file; name the file with --state");
  }
  return *base + "/poplar/fetch/" + name + ".state";
}

Result<std::string> default_account_file(const EnvLookup& env) {
  std::optional<std::string> base = xdg_base(env, "XDG_CONFIG_HOME", "/.config");
  if (!base) {
    return Status::invalid_input(
        "cannot find the account file: neither XDG_CONFIG_HOME nor HOME is an absolute path; "
        "name the file with -c");
  }
  return *base + "/poplar/fetch.toml";
}

}  // namespace poplar::fetch
