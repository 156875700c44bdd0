// The [mail] location template (DESIGN §5): "maildir:PATH", where PATH may hold %u (user name),
// %n (its local part, before the last '@'), %d (its domain, after the last '@'; empty if none),
// %h (the home directory from the passwd-file) and %% (a literal '%').
//
// validate_mail_location() runs once when the config is parsed; expand_mail_location() runs at
// every login, after the user has authenticated, to find that user's Maildir.
//
// Thread-safety: stateless functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace poplar::config {

// The scheme prefix that marks a Maildir location. Other stores (mbox, pgsql) come later.
inline constexpr std::string_view kMaildirScheme = "maildir:";

// What a location template may refer to. Both come from the passwd-file entry of a user that has
// already authenticated, so they are admin data, not peer input; the expansion still refuses
// values that would step outside the intended directory (see expand_mail_location).
struct MailUser {
  std::string user;  // the name as in the passwd-file, e.g. "alice@example.org"
  std::string home;  // absolute home directory; may be empty if the template does not use %h
};

// Checks a location template and makes its path absolute: a path that starts with neither '/'
// nor "%h" is taken relative to base_dir (with any '%' in base_dir escaped as "%%"). Returns the
// normalised "maildir:..." template.
// Error codes: kInvalidInput (no "maildir:" prefix, another scheme, empty path, an unknown or
// unfinished % escape, a leading '~'); the message does not repeat the key name.
Result<std::string> validate_mail_location(std::string_view location, const std::string& base_dir);

// Expands a location template for one user and returns the Maildir directory (without the
// "maildir:" prefix). Refuses, as kInvalidInput:
//  - a template without the "maildir:" prefix, an unknown or unfinished % escape, a leading '~';
//  - %h when home is empty or relative;
//  - %u, %n or %d whose value contains '/' or NUL or is "." or "..", so that a user name cannot
//    walk the path into another directory; %n when the local part is empty;
//  - an empty or relative result.
Result<std::string> expand_mail_location(std::string_view location, const MailUser& fields);

}  // namespace poplar::config
