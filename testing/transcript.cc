// Transcript replay; see transcript.h. Test-only code: it reads files, which is fine here and
// never in src/pop3.
#include "testing/transcript.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>

#include "base/base64.h"
#include "base/log.h"
#include "base/strict_number.h"
#include "pop3/pop4_arguments.h"
#include "sasl/cram_md5.h"
#include "sasl/scram.h"
#include "store/crlf_size.h"
#include "store/folder_name_rules.h"
#include "store/memory/memory_maildrop.h"
#include "store/memory/memory_state.h"
#include "testing/fake_clock.h"

namespace poplar::testing {
namespace {

// Random whose first next_u64() values can be scripted ("! random-u64 1896"), then a counter
// stream like FakeRandom.
class ScriptedRandom final : public Random {
 public:
  void push_u64(uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      script_.push_back(static_cast<uint8_t>(v >> shift));
    }
  }
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      if (!script_.empty()) {
        b = script_.front();
        script_.pop_front();
      } else {
        b = next_++;
      }
    }
  }

 private:
  std::deque<uint8_t> script_;
  uint8_t next_ = 1;
};

// APOP digests the fake authenticator knows (it has no MD5): (timestamp, secret) -> digest.
// RFC 1939 §7's example.
struct ApopVector {
  std::string_view timestamp;
  std::string_view secret;
  std::string_view digest;
};
constexpr ApopVector kApopVectors[] = {
    {"<1896.697170952@dbc.mtview.ca.us>", "tanstaaf", "c4c9334bac560ecc979e58001b3e22fb"},
};

std::optional<ErrorCode> error_code_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::kLoginDelay); ++i) {
    auto code = static_cast<ErrorCode>(i);
    if (error_code_name(code) == name) {
      return code;
    }
  }
  return std::nullopt;
}

std::optional<std::string> unescape(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out.push_back(in[i]);
      continue;
    }
    if (++i == in.size()) {
      return std::nullopt;
    }
    switch (in[i]) {
      case 'r':
        out.push_back('\r');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case '0':
        out.push_back('\0');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case 'x': {
        if (i + 2 >= in.size()) {
          return std::nullopt;
        }
        std::string hex(in.substr(i + 1, 2));
        char* end = nullptr;
        long v = std::strtol(hex.c_str(), &end, 16);
        if (hex.size() != 2 || end != hex.c_str() + 2) {
          return std::nullopt;
        }
        out.push_back(static_cast<char>(v));
        i += 2;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

std::vector<std::string> split_words(std::string_view s, size_t max_words) {
  std::vector<std::string> words;
  while (!s.empty() && words.size() + 1 < max_words) {
    size_t sp = s.find(' ');
    words.emplace_back(s.substr(0, sp));
    if (sp == std::string_view::npos) {
      return words;
    }
    s.remove_prefix(sp + 1);
  }
  if (!s.empty()) {
    words.emplace_back(s);
  }
  return words;
}

// The INBOX Maildrop of a user in the folder store (FakeWorld::folder_state): the memory
// store's, with UPDATEs recorded for `-- deleted` and the fake's knobs (commit-error,
// message-open-error, read-error, read-chunk) applied as FakeMaildrop applies them. Message i
// of the snapshot is FakeMaildropData message i (fill_folder_state copied them in order).
class RecordingMaildrop final : public store::Maildrop {
 public:
  RecordingMaildrop(store::MaildropPtr inner, std::shared_ptr<FakeMaildropData> data)
      : inner_(std::move(inner)), data_(std::move(data)) {}

  const std::vector<store::MessageInfo>& messages() const override { return inner_->messages(); }

  Result<store::MessageReaderPtr> open_message(size_t index) override {
    if (index >= data_->messages.size()) {
      return inner_->open_message(index);
    }
    const FakeMessage& m = data_->messages[index];
    if (m.open_error != ErrorCode::kOk) {
      return Status::error(m.open_error, "fake open_message failure");
    }
    return store::MessageReaderPtr(std::make_unique<FakeMessageReader>(
        m.content, data_->read_chunk_octets, m.fail_read_after, &data_->reads_at_end));
  }

  Status commit_update(std::span<const size_t> deletions) override {
    return commit_update(deletions, {});
  }

  Status commit_update(std::span<const size_t> deletions,
                       std::span<const store::FlagChange> changes) override {
    data_->commits.emplace_back(deletions.begin(), deletions.end());
    if (data_->commit_error != ErrorCode::kOk) {
      return Status::error(data_->commit_error, "fake commit failure: 1 message not removed");
    }
    return inner_->commit_update(deletions, changes);
  }

  store::MessageFlags flags(size_t index) const override { return inner_->flags(index); }
  store::Folders* folders() override { return inner_->folders(); }

 private:
  store::MaildropPtr inner_;
  std::shared_ptr<FakeMaildropData> data_;
};

// A folder of the user's tree in the folder store, or nullptr (no such folder, bad name).
// REQUIRES: state.mutex held.
store::memory::LocationPtr find_location(store::memory::State& state, const std::string& user,
                                         std::string_view folder) {
  auto checked = store::check_folder_name(folder);
  if (!checked.is_ok()) {
    return nullptr;
  }
  store::memory::Tree& tree = state.trees[user];
  if (checked->inbox) {
    return tree.inbox;
  }
  auto it = tree.folders.find(checked->wire);
  return it == tree.folders.end() ? nullptr : it->second;
}

class Replay {
 public:
  Replay(std::string_view name, FeedMode mode)
      : name_(name), mode_(mode), world_(FakeWorld::with_default_users()) {
    log::set_sink_for_test(
        [this](log::Level, std::string_view line) { log_lines_.emplace_back(line); });
  }
  ~Replay() {
    driver_.reset();
    session_.reset();  // its disconnect line still goes to this replay's sink
    log::reset_sink();
  }

  TranscriptOutcome run(std::string_view text) {
    std::istringstream lines{std::string(text)};
    std::string line;
    while (outcome_.ok && std::getline(lines, line)) {
      ++line_no_;
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      if (line.empty() || line[0] == '#') {
        continue;
      }
      step(line);
    }
    if (outcome_.ok) {
      ensure_session();
      flush_input();
      compare();
    }
    return outcome_;
  }

 private:
  void fail(const std::string& what) {
    if (outcome_.ok) {
      outcome_.ok = false;
      outcome_.failure = name_ + ":" + std::to_string(line_no_) + ": " + what;
    }
  }

  void step(const std::string& line) {
    if (line.size() < 2) {
      fail("unrecognised line");
      return;
    }
    std::string_view kind = std::string_view(line).substr(0, 2);
    std::string_view rest = std::string_view(line).substr(line.size() > 3 ? 3 : line.size());
    if (kind == "! " || line == "!") {
      if (session_) {
        fail("directive after the conversation started");
        return;
      }
      directive(std::string_view(line).substr(2));
      return;
    }
    ensure_session();
    if (kind == "C:" || kind == "C!" || kind == "C*") {
      if (!expected_.empty() || expected_block_line_ != 0) {
        compare();
      }
      if (kind == "C:") {
        input_ += std::string(rest) + "\r\n";
      } else if (kind == "C!") {
        auto bytes = unescape(rest);
        if (!bytes) {
          fail("bad escape");
          return;
        }
        input_ += *bytes;
      } else {
        auto words = split_words(rest, 2);
        auto n = words.empty() ? std::nullopt : parse_u32(words[0]);
        if (!n || words.size() != 2) {
          fail("C* needs a count and text");
          return;
        }
        for (uint32_t i = 0; i < *n; ++i) {
          input_ += words[1];
        }
        input_ += "\r\n";
      }
      return;
    }
    if (kind == "S:" || kind == "S!") {
      flush_input();
      if (expected_block_line_ == 0) {
        expected_block_line_ = line_no_;
      }
      if (kind == "S:") {
        expected_ += std::string(rest) + "\r\n";
      } else {
        auto bytes = unescape(rest);
        if (!bytes) {
          fail("bad escape");
          return;
        }
        expected_ += *bytes;
      }
      return;
    }
    if (kind == "--") {
      flush_input();
      compare();
      check(rest);
      return;
    }
    fail("unrecognised line");
  }

  void directive(std::string_view text) {
    auto words = split_words(text, 4);
    if (words.empty()) {
      fail("empty directive");
      return;
    }
    const std::string& d = words[0];
    auto user = [&](size_t i) -> FakeUser* {
      if (words.size() <= i) {
        fail("directive needs a user");
        return nullptr;
      }
      return &world_.users[words[i]];
    };
    auto code = [&](size_t i) -> std::optional<ErrorCode> {
      auto c = words.size() > i ? error_code_from_name(words[i]) : std::nullopt;
      if (!c) {
        fail("directive needs an error code name (base/status.cc)");
      }
      return c;
    };
    auto number = [&](size_t i) -> std::optional<uint64_t> {
      auto n = words.size() > i ? parse_u64(words[i]) : std::nullopt;
      if (!n) {
        fail("directive needs a number");
      }
      return n;
    };
    if (d == "config") {
      auto kv = split_words(text.substr(7), 2);
      if (kv.size() != 2 || !set_config(kv[0], kv[1])) {
        fail("bad config directive");
      }
    } else if (d == "random-u64") {
      if (auto n = number(1)) {
        random_.push_u64(*n);
      }
    } else if (d == "unix-time") {
      if (auto n = number(1)) {
        clock_.set_unix_base(static_cast<int64_t>(*n));
      }
    } else if (d == "remote-ip") {
      remote_ip_ = words.size() > 1 ? words[1] : "";
    } else if (d == "user") {
      auto w = split_words(text, 3);
      if (w.size() < 2) {
        fail("user needs a name");
        return;
      }
      world_.users[w[1]].password = w.size() > 2 ? w[2] : "";
    } else if (d == "apop-secret") {
      if (FakeUser* u = user(1)) {
        u->apop_secret = words.size() > 2 ? words[2] : "";
      }
    } else if (d == "clear") {
      if (FakeUser* u = user(1)) {
        u->maildrop->messages.clear();
      }
    } else if (d == "message") {
      auto w = split_words(text, 4);
      if (w.size() < 3) {
        fail("message needs USER UIDL CONTENT");
        return;
      }
      auto content = unescape(w.size() > 3 ? w[3] : "");  // "! message bob uid " = empty
      if (!content) {
        fail("bad escape");
        return;
      }
      world_.users[w[1]].maildrop->messages.push_back({*content, w[2], ErrorCode::kOk, {}});
    } else if (d == "auth-error") {
      FakeUser* u = user(1);
      if (auto c = code(2); u && c) {
        u->auth_error = *c;
      }
    } else if (d == "open-error") {
      FakeUser* u = user(1);
      if (auto c = code(2); u && c) {
        u->open_error = *c;
      }
    } else if (d == "commit-error") {
      FakeUser* u = user(1);
      if (auto c = code(2); u && c) {
        u->maildrop->commit_error = *c;
      }
    } else if (d == "message-open-error" || d == "read-error") {
      FakeUser* u = user(1);
      auto n = number(2);
      if (!u || !n || *n == 0 || *n > u->maildrop->messages.size()) {
        fail("no such message");
        return;
      }
      FakeMessage& m = u->maildrop->messages[*n - 1];
      if (d == "read-error") {
        if (auto after = number(3)) {
          m.fail_read_after = *after;
        }
      } else if (auto c = code(3)) {
        m.open_error = *c;
      }
    } else if (d == "scram-salt") {
      FakeUser* u = user(1);
      auto salt = words.size() > 2 ? base64_decode(words[2]) : std::nullopt;
      if (!u || !salt) {
        fail("scram-salt needs a user and base64");
        return;
      }
      u->scram_salt = *salt;
    } else if (d == "implicit-tls") {
      implicit_tls_ = true;
    } else if (d == "tls-fails") {
      fail_tls_ = true;
    } else if (d == "read-chunk") {
      FakeUser* u = user(1);
      if (auto n = number(2); u && n) {
        u->maildrop->read_chunk_octets = *n;
      }
    } else if (d == "folder" || d == "message-in" || d == "flags") {
      folder_directive(d, text);
    } else {
      fail("unknown directive " + d);
    }
  }

  store::memory::State& folder_state() {
    if (!world_.folder_state) {
      world_.folder_state = std::make_shared<store::memory::State>();
    }
    return *world_.folder_state;
  }

  // `! folder USER NAME`, `! message-in USER FOLDER UIDL CONTENT`, `! flags USER FOLDER N FLAG...`
  void folder_directive(const std::string& d, std::string_view text) {
    store::memory::State& state = folder_state();
    auto w = split_words(text, d == "folder" ? 3 : 5);
    if (w.size() < 3 || (d != "folder" && w.size() < 4)) {
      fail(d + " needs more arguments");
      return;
    }
    FakeUser& u = world_.users[w[1]];
    if (d == "folder") {
      auto checked = store::check_folder_name(w[2]);
      if (!checked.is_ok()) {
        fail("bad folder name: " + checked.status().to_string());
        return;
      }
      if (checked->inbox) {
        return;
      }
      store::memory::Tree& tree = state.trees[w[1]];
      const std::string& wire = checked->wire;
      for (size_t end = wire.find('/');; end = wire.find('/', end + 1)) {
        std::string prefix = wire.substr(0, end);
        if (!tree.folders.contains(prefix)) {
          tree.folders.emplace(prefix, std::make_shared<store::memory::Location>());
        }
        if (end == std::string::npos) {
          break;
        }
      }
      return;
    }
    const bool inbox = store::is_inbox_name(w[2]);
    store::memory::LocationPtr place = inbox ? nullptr : find_location(state, w[1], w[2]);
    if (!inbox && !place) {
      fail("no such folder (add it with ! folder first)");
      return;
    }
    if (d == "message-in") {
      auto content = unescape(w.size() > 4 ? w[4] : "");
      if (!content) {
        fail("bad escape");
        return;
      }
      if (inbox) {
        u.maildrop->messages.push_back({*content, w[3], ErrorCode::kOk, {}});
        return;
      }
      if (place->contains(w[3])) {
        fail("UIDL already in that folder");
        return;
      }
      const uint64_t size = store::crlf_size_octets(*content);
      place->add({w[3], std::make_shared<const std::string>(std::move(*content)), size, {}});
      return;
    }
    auto n = parse_u64(w[3]);
    auto flags = store::parse_flag_list(w.size() > 4 ? w[4] : "");
    const size_t count = inbox ? u.maildrop->messages.size() : place->messages.size();
    if (!n || *n == 0 || *n > count || !flags.is_ok()) {
      fail("flags needs an existing message number and valid flags");
      return;
    }
    if (inbox) {
      u.inbox_flags[*n - 1] = *flags;
    } else {
      place->messages[*n - 1].flags = *flags;
    }
  }

  // `! config pop4 WORD...`
  bool set_pop4(const std::string& value) {
    for (const std::string& word : split_words(value, 8)) {
      if (word == "folders") {
        config_.pop4.folders = true;
      } else if (word == "flags") {
        config_.pop4.flags = true;
      } else if (word == "parts") {
        config_.pop4.parts = true;
        continue;
      } else {
        return false;
      }
      folder_state();
    }
    return true;
  }

  bool set_config(const std::string& key, const std::string& value) {
    auto flag = [&](bool& field) {
      if (value != "true" && value != "false") {
        return false;
      }
      field = value == "true";
      return true;
    };
    auto u32 = [&](uint32_t& field) {
      auto n = parse_u32(value);
      if (n) {
        field = *n;
      }
      return n.has_value();
    };
    if (key == "hostname") {
      config_.hostname = value;
    } else if (key == "implementation") {
      config_.implementation = value;
    } else if (key == "apop") {
      return flag(config_.apop);
    } else if (key == "plaintext_allowed") {
      return flag(config_.plaintext_allowed);
    } else if (key == "pop4_banner") {
      return flag(config_.pop4_banner);
    } else if (key == "workaround_outlook_no_nuls") {
      return flag(config_.workaround_outlook_no_nuls);
    } else if (key == "refuse_utf8_headers") {
      return flag(config_.refuse_utf8_headers);
    } else if (key == "workaround_oe_ns_eoh") {
      return flag(config_.workaround_oe_ns_eoh);
    } else if (key == "expire_days") {
      if (value == "never") {
        config_.expire_days.reset();
        return true;
      }
      uint32_t days = 0;
      if (!u32(days)) {
        return false;
      }
      config_.expire_days = days;
    } else if (key == "login_delay_s") {
      return u32(config_.login_delay_s);
    } else if (key == "max_command_line_octets") {
      uint32_t n = 0;
      if (!u32(n)) {
        return false;
      }
      config_.max_command_line_octets = n;
    } else if (key == "max_bad_commands_before_login") {
      return u32(config_.max_bad_commands_before_login);
    } else if (key == "max_bad_commands_after_login") {
      return u32(config_.max_bad_commands_after_login);
    } else if (key == "max_auth_failures") {
      return u32(config_.max_auth_failures);
    } else if (key == "starttls_available") {
      return flag(config_.starttls_available);
    } else if (key == "max_auth_line_octets") {
      uint32_t n = 0;
      if (!u32(n)) {
        return false;
      }
      config_.max_auth_line_octets = n;
    } else if (key == "sasl_mechanisms") {
      config_.sasl_mechanisms = split_words(value, 64);
    } else if (key == "pop4") {
      return set_pop4(value);
    } else if (key == "max_stor_octets") {
      auto n = parse_u64(value);
      if (!n) {
        return false;
      }
      config_.max_stor_octets = *n;
    } else {
      return false;
    }
    return true;
  }

  void ensure_session() {
    if (session_) {
      return;
    }
    world_.fill_folder_state();
    session_ = std::make_unique<pop3::ServerSession>(config_, clock_, random_, remote_ip_);
    driver_ = std::make_unique<FakeDriver>(
        *session_, world_, mode_ == FeedMode::kTrickle ? 1 : static_cast<size_t>(-1));
    driver_->set_fail_tls(fail_tls_);
    if (implicit_tls_) {
      session_->on_tls_started(FakeDriver::fake_tls_info());  // RFC 8314: TLS, then greeting
    }
    session_->start();
    drive();
  }

  void drive() {
    std::string out;
    if (!driver_->run(out)) {
      fail("the session never settled");
    }
    actual_ += out;
    outcome_.output += out;
  }

  void flush_input() {
    if (input_.empty()) {
      return;
    }
    if (mode_ == FeedMode::kWhole) {
      // One chunk, in reads of at most kReadOctets as net/ does (a 1 MB line arrives in
      // pieces, never in one receive()).
      constexpr size_t kReadOctets = 64 * 1024;
      std::string_view rest = input_;
      const int handshakes = driver_->tls_handshakes();
      while (!rest.empty() && driver_->tls_handshakes() == handshakes) {
        session_->receive(rest.substr(0, kReadOctets));
        rest.remove_prefix(std::min(rest.size(), kReadOctets));
        drive();
      }
    } else {
      const int handshakes = driver_->tls_handshakes();
      for (char c : input_) {
        session_->receive(std::string_view(&c, 1));
        drive();
        if (driver_->tls_handshakes() != handshakes) {
          break;  // the rest of this chunk was plaintext behind STLS: net/ drops it
        }
      }
    }
    input_.clear();
  }

  void compare() {
    if (expected_ != actual_) {
      size_t saved = line_no_;
      if (expected_block_line_ != 0) {
        line_no_ = expected_block_line_;
      }
      fail("server output differs\n  expected: " + escape_for_display(expected_) +
           "\n  actual:   " + escape_for_display(actual_));
      line_no_ = saved;
    }
    expected_.clear();
    actual_.clear();
    expected_block_line_ = 0;
  }

  void check(std::string_view text) {
    auto words = split_words(text, 2);
    const std::string what = words.empty() ? "" : words[0];
    const std::string arg = words.size() > 1 ? words[1] : "";
    if (what == "eof") {
      session_->on_eof();
      drive();
    } else if (what == "closed") {
      if (!driver_->closed()) {
        fail("session still open");
      } else if (pop3::close_reason_name(session_->close_reason()) != arg) {
        fail("closed for " + std::string(pop3::close_reason_name(session_->close_reason())) +
             ", expected " + arg);
      }
    } else if (what == "open") {
      if (driver_->closed()) {
        fail("session closed");
      }
    } else if (what == "deleted") {
      auto w = split_words(arg, 64);
      if (w.empty() || !world_.users.count(w[0])) {
        fail("deleted needs a known user");
        return;
      }
      const auto& commits = world_.users[w[0]].maildrop->commits;
      if (w.size() == 2 && w[1] == "none") {
        if (!commits.empty()) {
          fail("an UPDATE happened");
        }
        return;
      }
      std::vector<size_t> expected;
      for (size_t i = 1; i < w.size(); ++i) {
        auto n = parse_u32(w[i]);
        if (!n || *n == 0) {
          fail("bad message number");
          return;
        }
        expected.push_back(*n - 1);
      }
      if (commits.size() != 1 || commits[0] != expected) {
        fail("UPDATE removed something else (" + std::to_string(commits.size()) + " commits)");
      }
    } else if (what == "log" || what == "no-log") {
      bool found = std::any_of(log_lines_.begin(), log_lines_.end(), [&](const std::string& l) {
        return l.find(arg) != std::string::npos;
      });
      if (found != (what == "log")) {
        std::string all;
        for (const auto& l : log_lines_) {
          all += "\n    " + l;
        }
        fail((found ? "log has " : "no log line has ") + arg + all);
      }
    } else if (what == "folders" || what == "folder" || what == "flags" || what == "stored") {
      folder_check(what, arg);
    } else {
      fail("unknown check " + what);
    }
  }

  // `-- folders USER NAME...`, `-- folder USER FOLDER UIDL...|none`,
  // `-- flags USER FOLDER UIDL FLAG...`, `-- stored USER FOLDER UIDL CONTENT`.
  void folder_check(const std::string& what, const std::string& arg) {
    if (!world_.folder_state) {
      fail("no folder store: use ! config pop4 folders or a folder directive");
      return;
    }
    store::memory::State& state = *world_.folder_state;
    std::lock_guard<std::mutex> guard(state.mutex);
    auto w = split_words(arg, what == "folders" ? 2 : what == "folder" ? 3 : 4);
    if (w.empty()) {
      fail(what + " needs a user");
      return;
    }
    if (what == "folders") {
      std::string actual = "INBOX";
      for (const auto& [name, place] : state.trees[w[0]].folders) {
        actual += " " + pop3::quote_folder_name(name);
      }
      const std::string expected = w.size() > 1 ? w[1] : "";
      if (actual != expected) {
        fail("folders are: " + actual);
      }
      return;
    }
    store::memory::LocationPtr place = w.size() > 1 ? find_location(state, w[0], w[1]) : nullptr;
    if (!place) {
      fail("no such folder");
      return;
    }
    if (what == "folder") {
      std::string actual;
      for (const auto& m : place->messages) {
        actual += (actual.empty() ? "" : " ") + m.uidl;
      }
      if (actual.empty()) {
        actual = "none";
      }
      if (actual != (w.size() > 2 ? w[2] : "")) {
        fail("folder holds: " + actual);
      }
      return;
    }
    const store::memory::StoredMessage* message = nullptr;
    for (const auto& m : place->messages) {
      if (w.size() > 2 && m.uidl == w[2]) {
        message = &m;
      }
    }
    if (!message) {
      fail("no such message in that folder");
      return;
    }
    const std::string rest = w.size() > 3 ? w[3] : "";
    if (what == "flags") {
      auto expected = store::parse_flag_list(rest);
      if (!expected.is_ok() || !(*expected == message->flags)) {
        fail("flags are: " + store::format_flags(message->flags));
      }
      return;
    }
    auto expected = unescape(rest);
    if (!expected || *expected != *message->bytes) {
      fail("stored bytes are: " + escape_for_display(*message->bytes));
    }
  }

  std::string name_;
  FeedMode mode_;
  FakeWorld world_;
  pop3::SessionConfig config_;
  FakeClock clock_;
  ScriptedRandom random_;
  std::string remote_ip_ = "192.0.2.1";
  bool implicit_tls_ = false;
  bool fail_tls_ = false;
  std::unique_ptr<pop3::ServerSession> session_;
  std::unique_ptr<FakeDriver> driver_;
  std::string input_;
  std::string expected_;
  std::string actual_;
  size_t expected_block_line_ = 0;
  size_t line_no_ = 0;
  std::vector<std::string> log_lines_;
  TranscriptOutcome outcome_;
};

}  // namespace

FakeWorld FakeWorld::with_default_users() {
  FakeWorld world;
  FakeUser& alice = world.users["alice"];
  alice.password = "secret";
  alice.maildrop->messages = {
      {"From: bob@example.org\r\nSubject: Hello\r\n\r\nHi Alice.\r\n",
       "uid-alice-1",
       ErrorCode::kOk,
       {}},
      {"From: carol@example.org\nSubject: Dots\n\n.hidden\n..double\n.\nlast line\n",
       "uid-alice-2",
       ErrorCode::kOk,
       {}},
      {"Subject: Odd\n\nline one\nbare\rCR\nno newline at end", "uid-alice-3", ErrorCode::kOk, {}},
  };
  world.users["bob"].password = "pw with spaces";
  FakeUser& carol = world.users["carol"];
  carol.password = "tanstaaf";
  carol.apop_secret = "tanstaaf";
  carol.maildrop->messages = {{"Subject: Carol\r\n\r\nHi.\r\n", "uid-carol-1", ErrorCode::kOk, {}}};
  return world;
}

auth::AuthResult FakeWorld::authenticate(const auth::AuthRequest& request) const {
  auth::AuthResult result;
  auto it = users.find(request.user);
  if (it == users.end()) {
    result.status = Status::error(ErrorCode::kAuthFailed, "unknown user");
    if (request.method == auth::AuthMethod::kScramLookup) {
      auto made_up = sasl::derive_scram_credentials(request.scram_hash, Secret("made up"),
                                                    "salt:" + request.user, 4096);
      if (made_up.is_ok()) {
        result.scram = std::move(made_up).value();
      }
    }
    return result;
  }
  const FakeUser& user = it->second;
  if (user.auth_error != ErrorCode::kOk) {
    result.status = Status::error(user.auth_error, "fake authenticator failure");
    return result;
  }
  bool ok = false;
  if (request.method == auth::AuthMethod::kUserPass) {
    ok = request.password.view() == user.password;
  } else if (request.method == auth::AuthMethod::kCramMd5) {
    ok = request.cram_digest == sasl::cram_md5_hex(user.password, request.cram_challenge);
  } else if (request.method == auth::AuthMethod::kScramLookup) {
    std::string salt = user.scram_salt.empty() ? "salt:" + request.user : user.scram_salt;
    auto keys =
        sasl::derive_scram_credentials(request.scram_hash, Secret(user.password), salt, 4096);
    if (!keys.is_ok()) {
      result.status = keys.status();
      return result;
    }
    result.scram = std::move(keys).value();
    ok = true;
  } else {
    std::string digest = request.apop_digest;
    std::transform(digest.begin(), digest.end(), digest.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const ApopVector& v : kApopVectors) {
      ok = ok || (!user.apop_secret.empty() && v.timestamp == request.apop_timestamp &&
                  v.secret == user.apop_secret && v.digest == digest);
    }
  }
  if (!ok) {
    result.status = Status::error(ErrorCode::kAuthFailed, "credentials do not match");
    return result;
  }
  result.user.name = request.user;
  return result;
}

Result<store::MaildropPtr> FakeWorld::open(const auth::UserRecord& user) const {
  auto it = users.find(user.name);
  if (it == users.end()) {
    return Status::not_found("no maildrop for " + user.name);
  }
  if (it->second.open_error != ErrorCode::kOk) {
    return Status::error(it->second.open_error, "fake open failure");
  }
  if (folder_state) {
    // As MemoryStore::open_maildrop does: the INBOX's lock, then its snapshot.
    std::lock_guard<std::mutex> guard(folder_state->mutex);
    store::memory::LocationPtr place = folder_state->trees[user.name].inbox;
    if (place->locked) {
      return Status::in_use("maildrop " + user.name + " is locked by another session");
    }
    place->locked = true;
    std::vector<store::memory::StoredMessage> snapshot = place->messages;
    auto inner = std::make_unique<store::memory::MemoryMaildrop>(folder_state, std::move(place),
                                                                 std::move(snapshot), user.name);
    return store::MaildropPtr(
        std::make_unique<RecordingMaildrop>(std::move(inner), it->second.maildrop));
  }
  return store::MaildropPtr(std::make_unique<FakeMaildrop>(it->second.maildrop));
}

void FakeWorld::fill_folder_state() {
  if (!folder_state) {
    return;
  }
  std::lock_guard<std::mutex> guard(folder_state->mutex);
  for (const auto& [name, user] : users) {
    store::memory::Location& inbox = *folder_state->trees[name].inbox;
    inbox = store::memory::Location{};
    for (size_t i = 0; i < user.maildrop->messages.size(); ++i) {
      const FakeMessage& m = user.maildrop->messages[i];
      auto flags = user.inbox_flags.find(i);
      inbox.add({m.uidl, std::make_shared<const std::string>(m.content),
                 store::crlf_size_octets(m.content),
                 flags == user.inbox_flags.end() ? store::MessageFlags{} : flags->second});
    }
  }
}

pop3::TlsInfo FakeDriver::fake_tls_info() {
  pop3::TlsInfo info;
  info.version = "TLSv1.3";
  info.cipher = "TLS_AES_256_GCM_SHA384";
  info.tls_exporter = std::string(32, '\x5e');          // RFC 9266: 32 octets
  info.tls_server_end_point = std::string(32, '\x3e');  // RFC 5929: a SHA-256 hash
  return info;
}

FakeDriver::FakeDriver(pop3::ServerSession& session, const FakeWorld& world, size_t write_chunk)
    : session_(session), world_(world), write_chunk_(write_chunk) {}

bool FakeDriver::run(std::string& out) {
  using pop3::ActionKind;
  for (int guard = 0; guard < 10'000'000; ++guard) {
    switch (session_.next_action()) {
      case ActionKind::kWrite: {
        std::string_view pending = session_.pending_output();
        if (pending.empty()) {
          return false;  // kWrite with nothing to write would spin a real driver
        }
        max_pending_ = std::max(max_pending_, pending.size());
        size_t n = std::min(pending.size(), write_chunk_);
        out.append(pending.substr(0, n));
        session_.consume_output(n);
        break;
      }
      case ActionKind::kRead:
        return true;
      case ActionKind::kAuthenticate:
        ++auth_actions_;
        session_.on_auth_result(world_.authenticate(session_.auth_request()));
        break;
      case ActionKind::kOpenMaildrop:
        session_.on_maildrop_opened(world_.open(session_.authenticated_user()));
        break;
      case ActionKind::kCommitUpdate:
        ++commit_actions_;
        session_.on_update_committed(session_.run_update());
        break;
      case ActionKind::kStartTls: {
        // RFC 2595 §4: the +OK goes out in plaintext, then the handshake starts.
        std::string_view pending = session_.pending_output();
        out.append(pending);
        session_.consume_output(pending.size());
        ++tls_handshakes_;
        if (fail_tls_) {
          session_.abort(pop3::CloseReason::kIoError);
        } else {
          session_.on_tls_started(fake_tls_info());
        }
        break;
      }
      case ActionKind::kClose:
        if (!session_.pending_output().empty()) {
          return false;  // the contract: nothing left to write at kClose
        }
        closed_ = true;
        return true;
    }
  }
  return false;
}

TranscriptOutcome run_transcript_text(std::string_view text, std::string_view name, FeedMode mode) {
  Replay replay(name, mode);
  return replay.run(text);
}

TranscriptOutcome run_transcript_file(const std::string& path, FeedMode mode) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    TranscriptOutcome outcome;
    outcome.ok = false;
    outcome.failure = path + ": cannot read";
    return outcome;
  }
  std::stringstream text;
  text << in.rdbuf();
  return run_transcript_text(text.str(), path, mode);
}

std::vector<std::string> list_transcripts(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".txt") {
      out.push_back(std::filesystem::relative(it->path(), dir).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string escape_for_display(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n\n             ";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

}  // namespace poplar::testing
