#include "config/toml_guard.h"

namespace poplar::config {

Status check_non_ascii_outside_strings(std::string_view text, const std::string& name) {
  enum class Where { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  Where where = Where::kCode;
  size_t line = 1;
  // The last character of code that is not a space or tab ('\n' at the start of a line). A
  // quote opens a string only where TOML lets one begin: a key at the start of a line or after
  // '.', '[' or '{' or ',', a value after '=' or inside an array. Anywhere else (`a = 2"x"`)
  // it is a syntax error, which toml++ may scan past as bare text, so what follows is checked
  // as code (fuzz_fetch_accounts found `url = 2"...<non-ASCII>"` reaching the unreachable).
  char last_code = '\n';
  auto string_may_begin = [&] {
    return last_code == '\n' || last_code == '=' || last_code == '[' || last_code == ',' ||
           last_code == '{' || last_code == '.';
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      last_code = '\n';
      if (where == Where::kComment || where == Where::kBasic || where == Where::kLiteral) {
        where = Where::kCode;  // single-line strings cannot span lines; toml++ reports that
      }
      continue;
    }
    switch (where) {
      case Where::kCode:
        if (static_cast<unsigned char>(c) >= 0x80) {
          return Status::invalid_input(name + ":" + std::to_string(line) +
                                       ": non-ASCII character outside a string or comment");
        }
        if (c == '#') {
          where = Where::kComment;
        } else if ((c == '"' || c == '\'') && !string_may_begin()) {
          last_code = c;  // not a string: the rest of the line stays code
        } else if (c == '"') {
          if (text.substr(i, 3) == "\"\"\"") {
            where = Where::kMultiBasic;
            i += 2;
          } else {
            where = Where::kBasic;
          }
        } else if (c == '\'') {
          if (text.substr(i, 3) == "'''") {
            where = Where::kMultiLiteral;
            i += 2;
          } else {
            where = Where::kLiteral;
          }
        } else if (c != ' ' && c != '\t' && c != '\r') {
          last_code = c;
        }
        break;
      case Where::kComment:
        break;
      case Where::kBasic:
        if (c == '\\') {
          if (i + 1 < text.size() && text[i + 1] != '\n') {
            ++i;
          }
        } else if (c == '"') {
          where = Where::kCode;
          last_code = '"';
        }
        break;
      case Where::kLiteral:
        if (c == '\'') {
          where = Where::kCode;
          last_code = '\'';
        }
        break;
      case Where::kMultiBasic:
        if (c == '\\') {
          if (i + 1 < text.size() && text[i + 1] != '\n') {
            ++i;
          }
        } else if (text.substr(i, 3) == "\"\"\"") {
          // Up to two quotes may end the content just before the closing delimiter.
          while (i + 3 < text.size() && text[i + 3] == '"') {
            ++i;
          }
          i += 2;
          where = Where::kCode;
          last_code = '"';
        }
        break;
      case Where::kMultiLiteral:
        if (text.substr(i, 3) == "'''") {
          while (i + 3 < text.size() && text[i + 3] == '\'') {
            ++i;
          }
          i += 2;
          where = Where::kCode;
          last_code = '\'';
        }
        break;
    }
  }
  return Status::ok();
}

}  // namespace poplar::config
