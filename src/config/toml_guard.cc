#include "config/toml_guard.h"

namespace poplar::config {

Status check_non_ascii_outside_strings(std::string_view text, const std::string& name) {
  enum class Where { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  Where where = Where::kCode;
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
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
        }
        break;
      case Where::kLiteral:
        if (c == '\'') {
          where = Where::kCode;
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
        }
        break;
      case Where::kMultiLiteral:
        if (text.substr(i, 3) == "'''") {
          while (i + 3 < text.size() && text[i + 3] == '\'') {
            ++i;
          }
          i += 2;
          where = Where::kCode;
        }
        break;
    }
  }
  return Status::ok();
}

}  // namespace poplar::config
