// The shared TOML reading helpers; see toml_reader.h.
#include "config/toml_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>

#include "base/ascii.h"
#include "config/toml_guard.h"

namespace poplar::config {

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

bool is_known(std::span<const std::string_view> known, std::string_view word) {
  return std::find(known.begin(), known.end(), word) != known.end();
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) {
      out += ", ";
    }
    out += quote(w);
  }
  return out;
}

Status parse_toml(std::string_view text, const std::string& name, toml::table& root) {
  if (Status s = check_non_ascii_outside_strings(text, name); !s.is_ok()) {
    return s;
  }
  try {
    root = toml::parse(text, std::string_view(name));
  } catch (const toml::parse_error& e) {
    return Status::invalid_input(name + ":" + std::to_string(e.source().begin.line) + ": " +
                                 std::string(e.description()));
  }
  return Status::ok();
}

Result<std::string> read_small_file(const std::string& path, size_t max_bytes,
                                    std::string_view what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::from_errno(errno, "cannot open " + std::string(what) + " " + path);
  }
  std::string text;
  char buf[16384];
  Status status;
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      status = Status::from_errno(errno, "cannot read " + std::string(what) + " " + path);
      break;
    }
    if (n == 0) {
      break;
    }
    if (text.size() + static_cast<size_t>(n) > max_bytes) {
      const std::string limit = max_bytes % (size_t{1} << 20) == 0
                                    ? std::to_string(max_bytes >> 20) + " MiB"
                                    : std::to_string(max_bytes >> 10) + " KiB";
      status =
          Status::error(ErrorCode::kLimit, path + ": larger than " + limit +
                                               "; is this really the " + std::string(what) + "?");
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!status.is_ok()) {
    return status;
  }
  return text;
}

std::filesystem::path absolute_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p =
      dir.empty() ? std::filesystem::current_path(ec) : std::filesystem::absolute(dir, ec);
  if (ec) {
    return dir.empty() ? std::filesystem::path(".") : std::filesystem::path(dir);
  }
  return p.lexically_normal();
}

TomlReader::TomlReader(std::string name, std::filesystem::path base_dir)
    : name_(std::move(name)), base_dir_(std::move(base_dir)) {}

std::string TomlReader::prefix(std::string_view sect, std::string_view key) {
  std::string out;
  if (!sect.empty()) {
    out += sect;
    out += ' ';
  }
  out += key;
  return out;
}

void TomlReader::add(const toml::source_region& where, std::string text) {
  problems_.push_back({where.begin.line, std::move(text)});
}

void TomlReader::add(const toml::node& node, std::string_view sect, std::string_view key,
                     std::string_view what) {
  add(node.source(), prefix(sect, key) + ": " + std::string(what));
}

void TomlReader::wrong_type(const toml::node& node, std::string_view sect, std::string_view key,
                            std::string_view wanted) {
  add(node, sect, key, "must be " + std::string(wanted) + ", not " + std::string(type_name(node)));
}

Status TomlReader::result() const {
  if (problems_.empty()) {
    return Status::ok();
  }
  std::vector<Problem> sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Problem& a, const Problem& b) { return a.line < b.line; });
  std::string message;
  for (const Problem& p : sorted) {
    if (!message.empty()) {
      message += '\n';
    }
    message += name_ + ":" + std::to_string(p.line) + ": " + p.text;
  }
  return Status::invalid_input(std::move(message));
}

void TomlReader::check_keys(const toml::table& table, std::string_view sect,
                            std::span<const std::string_view> known) {
  for (auto&& [key, node] : table) {
    if (!is_known(known, key.str())) {
      add(key.source(), prefix(sect, "unknown key " + quote(key.str())));
    }
  }
}

const toml::node* TomlReader::read_string(const toml::table& t, std::string_view sect,
                                          std::string_view key, std::string& out) {
  const toml::node* node = t.get(key);
  if (node == nullptr) {
    return nullptr;
  }
  const toml::value<std::string>* value = node->as_string();
  if (value == nullptr) {
    wrong_type(*node, sect, key, "a string");
    return nullptr;
  }
  out = value->get();
  return node;
}

const toml::node* TomlReader::read_bool(const toml::table& t, std::string_view sect,
                                        std::string_view key, bool& out) {
  const toml::node* node = t.get(key);
  if (node == nullptr) {
    return nullptr;
  }
  if (const toml::value<bool>* value = node->as_boolean()) {
    out = value->get();
    return node;
  }
  wrong_type(*node, sect, key, "true or false");
  return nullptr;
}

const toml::node* TomlReader::read_uint(const toml::table& t, std::string_view sect,
                                        std::string_view key, uint64_t min,
                                        std::string_view why_min, uint64_t max, uint64_t& out) {
  const toml::node* node = t.get(key);
  if (node == nullptr) {
    return nullptr;
  }
  const toml::value<int64_t>* value = node->as_integer();
  if (value == nullptr) {
    wrong_type(*node, sect, key, "an integer");
    return nullptr;
  }
  int64_t v = value->get();
  if (v < 0 || static_cast<uint64_t>(v) < min) {
    std::string what =
        min == 0 ? "must not be negative" : "must be at least " + std::to_string(min);
    if (!why_min.empty()) {
      what += " (" + std::string(why_min) + ")";
    }
    add(*node, sect, key, what);
    return nullptr;
  }
  if (static_cast<uint64_t>(v) > max) {
    add(*node, sect, key, "must be at most " + std::to_string(max));
    return nullptr;
  }
  out = static_cast<uint64_t>(v);
  return node;
}

const toml::node* TomlReader::read_u32(const toml::table& t, std::string_view sect,
                                       std::string_view key, uint32_t min, std::string_view why_min,
                                       uint32_t& out) {
  uint64_t value = 0;
  const toml::node* node =
      read_uint(t, sect, key, min, why_min, std::numeric_limits<uint32_t>::max(), value);
  if (node != nullptr) {
    out = static_cast<uint32_t>(value);
  }
  return node;
}

void TomlReader::read_word_list(const toml::table& t, std::string_view sect, std::string_view key,
                                std::span<const std::string_view> known, bool fold_case,
                                std::vector<std::string>& out) {
  const toml::node* node = t.get(key);
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    wrong_type(*node, sect, key, "an array of strings");
    return;
  }
  std::vector<std::string> words;
  bool ok = true;
  for (const toml::node& element : *array) {
    const toml::value<std::string>* value = element.as_string();
    if (value == nullptr) {
      wrong_type(
          element, sect, key,
          "an array of strings (found an element that is " + std::string(type_name(element)) + ")");
      ok = false;
      continue;
    }
    std::string word = fold_case ? ascii_upper(value->get()) : value->get();
    if (!is_known(known, word)) {
      add(element, sect, key,
          "unknown value " + quote(value->get()) + " (known: " + join(known) + ")");
      ok = false;
    } else if (std::find(words.begin(), words.end(), word) != words.end()) {
      add(element, sect, key, quote(value->get()) + " is listed twice");
      ok = false;
    } else {
      words.push_back(std::move(word));
    }
  }
  if (ok) {
    out = std::move(words);
  }
}

const toml::node* TomlReader::read_path(const toml::table& t, std::string_view sect,
                                        std::string_view key, std::string& out, bool tilde) {
  std::string value;
  const toml::node* node = read_string(t, sect, key, value);
  if (node == nullptr) {
    return nullptr;
  }
  if (value.empty()) {
    add(*node, sect, key, "must not be empty");
    return nullptr;
  }
  if (value.find('\0') != std::string::npos) {
    add(*node, sect, key, "must not contain a NUL character");
    return nullptr;
  }
  if (tilde && (value == "~" || value.rfind("~/", 0) == 0)) {
    const char* home = std::getenv("HOME");
    if (home == nullptr || home[0] != '/') {
      add(*node, sect, key, quote(value) + ": \"~\" needs $HOME to be an absolute path");
      return nullptr;
    }
    value = std::string(home) + value.substr(1);
  }
  out = resolve(value);
  return node;
}

std::string TomlReader::resolve(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute()) {
    return p.lexically_normal().string();
  }
  return (base_dir_ / p).lexically_normal().string();
}

}  // namespace poplar::config
