// Fuzzes the passwd-file parser and the password verifier with arbitrary file contents: broken
// lines must be skipped with a Status, never crash, and an error message must never quote the
// password field.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/passwd_file.h"
#include "auth/password_scheme.h"
#include "base/log.h"
#include "base/secret.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const bool quiet = [] {
    poplar::log::set_min_level(poplar::log::Level::kError);
    return true;
  }();
  (void)quiet;
  std::string_view text(reinterpret_cast<const char*>(bytes), size);
  auto parsed = poplar::auth::parse_passwd_text(text, "fuzz");
  (void)parsed;
  // Each line alone, and its stored password verified against a fixed guess. Slow schemes
  // (crypt, argon2) are skipped so the fuzzer explores the parser, not the hash functions.
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    auto line = text.substr(start, end - start);
    auto entry = poplar::auth::parse_passwd_line(line);
    if (!entry.is_ok()) {
      // The password field (between the first and second ':') must never be quoted.
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        auto rest = line.substr(colon + 1);
        auto password = rest.substr(0, rest.find(':'));
        if (password.size() >= 6 && entry.status().message().find(password) != std::string::npos) {
          // It may be a coincidence with fixed error text ("id is not "): parse the line again
          // with the field blanked out; if the text still holds it, it did not come from the line.
          std::string blanked(line);
          blanked.replace(colon + 1, password.size(), password.size(), '\x01');
          auto again = poplar::auth::parse_passwd_line(blanked);
          if (again.is_ok() || again.status().message().find(password) == std::string::npos) {
            std::abort();
          }
        }
      }
    }
    if (entry.is_ok()) {
      std::string_view stored = entry->password.view();
      if (stored.starts_with("{PLAIN}") || stored.starts_with("{SSHA") ||
          stored.starts_with("{SHA") || stored.starts_with("{CRAM-MD5}")) {
        (void)poplar::auth::verify_password(stored, poplar::Secret("guess"));
      }
    }
    start = end + 1;
  }
  return 0;
}
