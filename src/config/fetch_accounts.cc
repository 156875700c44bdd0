// The `poplar fetch` account file; see fetch_accounts.h.
#include "config/fetch_accounts.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "config/toml_reader.h"

namespace poplar::config {
namespace {

constexpr size_t kMaxFileBytes = size_t{1} << 20;
constexpr size_t kMaxNameChars = 64;

constexpr std::string_view kTopKeys[] = {"defaults", "account"};
// Keys an [[account]] and [defaults] share; an account adds name and url.
constexpr std::string_view kAccountKeys[] = {"name",
                                             "url",
                                             "user",
                                             "password_file",
                                             "password_command",
                                             "target",
                                             "keep",
                                             "keep_days",
                                             "max_size",
                                             "limit",
                                             "ca_file",
                                             "fingerprint",
                                             "insecure_plaintext",
                                             "discover",
                                             "state",
                                             "timeout_s",
                                             "folder",
                                             "move_to",
                                             "password"};
constexpr std::string_view kDefaultsKeys[] = {
    "user",    "password_command",   "target",   "keep",      "keep_days", "max_size", "limit",
    "ca_file", "insecure_plaintext", "discover", "timeout_s", "folder",    "move_to",  "password"};

bool is_account_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameChars) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

class Parser : public TomlReader {
 public:
  Parser(const std::string& name, std::filesystem::path base_dir,
         const FetchAccountValidators& validators)
      : TomlReader(name, std::move(base_dir)), validators_(validators) {}

  Status run(const toml::table& root, FetchConfig& config) {
    check_keys(root, "", kTopKeys);
    FetchAccountConfig defaults;
    if (const toml::node* node = root.get("defaults")) {
      if (const toml::table* table = node->as_table()) {
        check_keys(*table, "[defaults]", kDefaultsKeys);
        read_common(*table, "[defaults]", defaults);
      } else {
        wrong_type(*node, "", "defaults", "a table ([defaults])");
      }
    }
    const toml::node* node = root.get("account");
    if (node == nullptr) {
      add(root.source(), "no [[account]] table: the file names no account to fetch");
      return result();
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      wrong_type(*node, "", "account", "an array of tables (write [[account]])");
      return result();
    }
    for (const toml::node& element : *array) {
      const toml::table* table = element.as_table();
      if (table == nullptr) {
        wrong_type(element, "", "account", "an array of tables (write [[account]])");
        continue;
      }
      FetchAccountConfig account = defaults;
      if (read_account(*table, account)) {
        const bool duplicate =
            std::any_of(config.accounts.begin(), config.accounts.end(),
                        [&](const FetchAccountConfig& a) { return a.name == account.name; });
        if (duplicate) {
          add(*table->get("name"), "[[account]]", "name",
              quote(account.name) + " is used by an earlier account");
        } else {
          config.accounts.push_back(std::move(account));
        }
      }
    }
    return result();
  }

 private:
  // Runs a validator on a string key's value; reports with the key's line.
  void validate(const toml::node* node, std::string_view sect, std::string_view key,
                const std::string& value,
                const std::function<Status(std::string_view)>& validator) {
    if (node == nullptr || !validator) {
      return;
    }
    if (Status s = validator(value); !s.is_ok()) {
      add(*node, sect, key, s.message());
    }
  }

  // What [defaults] and [[account]] share.
  void read_common(const toml::table& t, std::string_view sect, FetchAccountConfig& a) {
    if (const toml::node* node = t.get("password")) {
      add(*node, sect, "password",
          "passwords do not go in this file: use password_file, password_command or "
          "$POPLAR_PASSWORD");
    }
    read_string(t, sect, "user", a.user);
    read_path(t, sect, "password_file", a.password_file, /*tilde=*/true);
    if (const toml::node* node = read_string(t, sect, "password_command", a.password_command)) {
      if (a.password_command.empty()) {
        add(*node, sect, "password_command", "must not be empty");
      }
    }
    if (t.get("password_file") != nullptr && t.get("password_command") != nullptr) {
      add(*t.get("password_command"), sect, "password_command",
          "give password_file or password_command, not both");
    } else if (t.get("password_file") != nullptr) {
      a.password_command.clear();  // the account's own choice beats an inherited one
    } else if (t.get("password_command") != nullptr) {
      a.password_file.clear();
    }
    read_target(t, sect, a);
    read_keep(t, sect, a);
    uint64_t max_size = 0;
    if (read_uint(t, sect, "max_size", 1, "0 would skip every message",
                  std::numeric_limits<int64_t>::max(), max_size) != nullptr) {
      a.max_size = max_size;
    }
    uint32_t limit = 0;
    if (read_u32(t, sect, "limit", 1, "0 would fetch nothing", limit) != nullptr) {
      a.limit = limit;
    }
    read_path(t, sect, "ca_file", a.ca_file, /*tilde=*/true);
    validate(read_string(t, sect, "fingerprint", a.fingerprint), sect, "fingerprint", a.fingerprint,
             validators_.fingerprint);
    read_bool(t, sect, "insecure_plaintext", a.insecure_plaintext);
    read_bool(t, sect, "discover", a.discover);
    read_path(t, sect, "state", a.state, /*tilde=*/true);
    read_u32(t, sect, "timeout_s", 1, "0 would give up at once", a.timeout_s);
    validate(read_string(t, sect, "folder", a.folder), sect, "folder", a.folder,
             validators_.folder);
    validate(read_string(t, sect, "move_to", a.move_to), sect, "move_to", a.move_to,
             validators_.folder);
  }

  // "maildir:~/Mail" and "mbox:Mail/inbox" get their paths resolved; "mda:..." is a command.
  void read_target(const toml::table& t, std::string_view sect, FetchAccountConfig& a) {
    std::string target;
    const toml::node* node = read_string(t, sect, "target", target);
    if (node == nullptr) {
      return;
    }
    if (validators_.target) {
      if (Status s = validators_.target(target); !s.is_ok()) {
        add(*node, sect, "target", quote(target) + ": " + s.message());
        return;
      }
    }
    for (std::string_view kind : {"maildir:", "mbox:"}) {
      if (target.rfind(kind, 0) == 0) {
        toml::table one;
        one.insert("target", target.substr(kind.size()));
        std::string path;
        size_t problems_before = problem_count();
        read_path(one, sect, "target", path, /*tilde=*/true);
        if (problem_count() != problems_before) {
          return;
        }
        target = std::string(kind) + path;
      }
    }
    a.target = std::move(target);
  }

  // keep = false clears an inherited keep_days, keep_days sets keep; both in one table must
  // agree.
  void read_keep(const toml::table& t, std::string_view sect, FetchAccountConfig& a) {
    bool keep = true;
    const toml::node* keep_node = read_bool(t, sect, "keep", keep);
    uint32_t days = 0;
    const toml::node* days_node = read_u32(t, sect, "keep_days", 0, "", days);
    if (keep_node != nullptr && days_node != nullptr && !keep) {
      add(*days_node, sect, "keep_days",
          "contradicts keep = false (keep_days keeps messages for a while)");
      return;
    }
    if (keep_node != nullptr) {
      a.keep = keep;
      if (!keep) {
        a.keep_days.reset();
      }
    }
    if (days_node != nullptr) {
      a.keep = true;
      a.keep_days = days;
    }
  }

  // Returns false when the account is unusable (problems reported).
  bool read_account(const toml::table& t, FetchAccountConfig& a) {
    constexpr std::string_view kSect = "[[account]]";
    size_t problems_before = problem_count();
    check_keys(t, kSect, kAccountKeys);
    a.line = t.source().begin.line;
    if (const toml::node* node = read_string(t, kSect, "name", a.name)) {
      if (!is_account_name(a.name)) {
        add(*node, kSect, "name",
            quote(a.name) + ": must be 1-64 letters, digits, '.', '_' or '-'");
      }
    } else if (t.get("name") == nullptr) {
      add(t.source(), "[[account]] name: missing (every account needs a name, e.g. \"work\")");
    }
    if (const toml::node* node = read_string(t, kSect, "url", a.url)) {
      if (validators_.url) {
        if (Status s = validators_.url(a.url); !s.is_ok()) {
          add(*node, kSect, "url", s.message());
        }
      }
    } else if (t.get("url") == nullptr) {
      add(t.source(), "[[account]] url: missing (pop://USER@HOST or pops://USER@HOST)");
    }
    read_common(t, kSect, a);
    if (a.target.empty() && t.get("target") == nullptr) {
      add(t.source(),
          "[[account]] target: missing here and in [defaults] (maildir:DIR, mbox:FILE or "
          "mda:COMMAND)");
    }
    return problem_count() == problems_before;
  }

  const FetchAccountValidators& validators_;
};

}  // namespace

Result<FetchConfig> parse_fetch_config(std::string_view toml_text, const std::string& name,
                                       const std::string& base_dir,
                                       const FetchAccountValidators& validators) {
  toml::table root;
  if (Status s = parse_toml(toml_text, name, root); !s.is_ok()) {
    return s;
  }
  FetchConfig config;
  config.source_path = name;
  Parser parser(name, absolute_dir(base_dir), validators);
  if (Status s = parser.run(root, config); !s.is_ok()) {
    return s;
  }
  return config;
}

Result<FetchConfig> load_fetch_config(const std::string& path,
                                      const FetchAccountValidators& validators) {
  Result<std::string> text = read_small_file(path, kMaxFileBytes, "account file");
  if (!text.is_ok()) {
    return text.status();
  }
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  return parse_fetch_config(*text, path, dir.empty() ? std::string() : dir.string(), validators);
}

}  // namespace poplar::config
