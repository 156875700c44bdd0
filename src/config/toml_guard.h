// A guard in front of toml++: Debian's toml++ 3.3 reaches __builtin_unreachable() (undefined
// behaviour, found by fuzz_config) when it meets a non-ASCII character outside a string or a
// comment, e.g. `a = 1 é`. TOML only allows non-ASCII there inside strings and comments anyway,
// so such text is refused here with a clear error before toml++ sees it.
//
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace poplar::config {

// kInvalidInput "NAME:LINE: non-ASCII character outside a string or comment" for the first
// such byte; OK otherwise. Understands basic and literal strings, their multi-line forms,
// escapes in basic strings, and comments.
Status check_non_ascii_outside_strings(std::string_view text, const std::string& name);

}  // namespace poplar::config
