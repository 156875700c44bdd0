// Parsing and expansion of the [mail] location template. See mail_location.h.
//
// Thread-safety: stateless; safe from any thread.
#include "config/mail_location.h"

namespace poplar::config {
namespace {

// The path part of a "maildir:..." template, or an error naming what is wrong with the prefix.
Result<std::string_view> path_part(std::string_view location) {
  if (location.starts_with(kMaildirScheme)) {
    return location.substr(kMaildirScheme.size());
  }
  size_t colon = location.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::invalid_input("must start with \"maildir:\", e.g. \"maildir:%h/Maildir\"");
  }
  return Status::invalid_input("scheme \"" + std::string(location.substr(0, colon)) +
                               "\" is not supported (only \"maildir:\" for now)");
}

// Walks the template once, calling on_escape for each of %u %n %d %h and on_text for literal
// runs; fails on an unknown or unfinished escape. One walker serves validation and expansion, so
// the two can never disagree about what the syntax is.
template <typename OnText, typename OnEscape>
Status walk_template(std::string_view path, OnText on_text, OnEscape on_escape) {
  size_t i = 0;
  while (i < path.size()) {
    size_t pct = path.find('%', i);
    if (pct == std::string_view::npos) {
      on_text(path.substr(i));
      break;
    }
    on_text(path.substr(i, pct - i));
    if (pct + 1 >= path.size()) {
      return Status::invalid_input("unfinished % escape at the end (write %% for a '%')");
    }
    char c = path[pct + 1];
    switch (c) {
      case '%':
        on_text("%");
        break;
      case 'u':
      case 'n':
      case 'd':
      case 'h': {
        Status s = on_escape(c);
        if (!s.is_ok()) {
          return s;
        }
        break;
      }
      default:
        return Status::invalid_input(std::string("unknown escape \"%") + c +
                                     "\" (known: %u %n %d %h %%)");
    }
    i = pct + 2;
  }
  return Status::ok();
}

// A user-derived path component must stay one component: no '/', no NUL, not "." or "..".
Status check_component(std::string_view value, std::string_view what) {
  if (value.find('/') != std::string_view::npos || value.find('\0') != std::string_view::npos ||
      value == "." || value == "..") {
    return Status::invalid_input(std::string(what) + " \"" + std::string(value) +
                                 "\" cannot be used in a path");
  }
  return Status::ok();
}

// Dovecot writes "~/Maildir"; here the home directory is spelled %h, and silently taking "~" as
// a directory name would surprise everyone. Checked at load time and again at expansion, because
// a per-user location from the passwd-file reaches expand_mail_location() without validation.
Status refuse_tilde(std::string_view path) {
  if (path.starts_with('~')) {
    return Status::invalid_input("use %h for the home directory instead of '~'");
  }
  return Status::ok();
}

std::string escape_percent(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%') {
      out += '%';
    }
    out += c;
  }
  return out;
}

}  // namespace

Result<std::string> validate_mail_location(std::string_view location, const std::string& base_dir) {
  Result<std::string_view> path = path_part(location);
  if (!path.is_ok()) {
    return path.status();
  }
  if (path->empty()) {
    return Status::invalid_input("the path after \"maildir:\" is empty");
  }
  Status tilde = refuse_tilde(*path);
  if (!tilde.is_ok()) {
    return tilde;
  }
  Status syntax = walk_template(
      *path, [](std::string_view) {}, [](char) { return Status::ok(); });
  if (!syntax.is_ok()) {
    return syntax;
  }
  std::string out(kMaildirScheme);
  if (path->starts_with('/') || path->starts_with("%h")) {
    out += *path;
  } else {
    out += escape_percent(base_dir.empty() ? std::string(".") : base_dir);
    if (!out.ends_with('/')) {
      out += '/';
    }
    out += *path;
  }
  return out;
}

Result<std::string> expand_mail_location(std::string_view location, const MailUser& fields) {
  Result<std::string_view> path = path_part(location);
  if (!path.is_ok()) {
    return path.status();
  }
  Status tilde = refuse_tilde(*path);
  if (!tilde.is_ok()) {
    return tilde;
  }
  std::string_view user = fields.user;
  size_t at = user.rfind('@');
  std::string_view local = at == std::string_view::npos ? user : user.substr(0, at);
  std::string_view domain = at == std::string_view::npos ? std::string_view() : user.substr(at + 1);

  std::string out;
  Status s = walk_template(
      *path, [&out](std::string_view text) { out += text; },
      [&](char escape) -> Status {
        switch (escape) {
          case 'u': {
            Status c = check_component(user, "user name");
            if (!c.is_ok()) {
              return c;
            }
            if (user.empty()) {
              return Status::invalid_input("%u used but the user name is empty");
            }
            out += user;
            return Status::ok();
          }
          case 'n': {
            Status c = check_component(local, "local part");
            if (!c.is_ok()) {
              return c;
            }
            if (local.empty()) {
              return Status::invalid_input("%n used but the local part of \"" + std::string(user) +
                                           "\" is empty");
            }
            out += local;
            return Status::ok();
          }
          case 'd': {
            // Empty when the user name has no domain: "/var/mail/%d/%n" then reads
            // "/var/mail//alice", which the file system treats as "/var/mail/alice".
            Status c = check_component(domain, "domain");
            if (!c.is_ok()) {
              return c;
            }
            out += domain;
            return Status::ok();
          }
          default: {  // 'h'
            if (fields.home.empty()) {
              return Status::invalid_input("%h used but user \"" + std::string(user) +
                                           "\" has no home directory");
            }
            if (!fields.home.starts_with('/')) {
              return Status::invalid_input("%h used but the home directory \"" + fields.home +
                                           "\" of user \"" + std::string(user) +
                                           "\" is not absolute");
            }
            out += fields.home;
            return Status::ok();
          }
        }
      });
  if (!s.is_ok()) {
    return s;
  }
  if (out.empty()) {
    return Status::invalid_input("mail location expands to an empty path");
  }
  if (!out.starts_with('/')) {
    // The server never changes directory, so a relative path would depend on where it was
    // started; parse_config makes templates absolute, so this means a caller skipped it.
    return Status::invalid_input("mail location expands to a relative path \"" + out + "\"");
  }
  return out;
}

}  // namespace poplar::config
