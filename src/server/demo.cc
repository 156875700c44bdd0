// The demo data directory for `poplar serve --demo`. See demo.h.
//
// Thread-safety: see demo.h.
#include "server/demo.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string_view>
#include <vector>

#include "tls/tls_context.h"

namespace poplar::server {
namespace {

namespace fs = std::filesystem;

// One demo message: its Maildir base name (without the ,S=/,W= size fields, added when written)
// and its content, exactly as stored.
struct DemoMessage {
  std::string base_name;
  std::string content;
};

// The timestamps in the file names and Date: headers: a fixed past moment, one minute apart, so
// the demo mailbox is the same on every machine (same UIDLs, same sizes).
constexpr int64_t kFirstTimestamp = 1700000000;  // Tue, 14 Nov 2023 22:13:20 +0000
constexpr char kFirstDate[] = "Tue, 14 Nov 2023 22:";
constexpr int kFirstMinute = 13;

// About 200 KB: large enough that a client shows progress and the server must stream it in many
// writes, small enough to generate instantly.
constexpr size_t kLongMessageBytes = 200 * 1024;

std::string join_lines(const std::vector<std::string>& lines, std::string_view eol) {
  std::string out;
  for (const std::string& line : lines) {
    out += line;
    out += eol;
  }
  return out;
}

std::string date_header(int index) {
  return std::string("Date: ") + kFirstDate + std::to_string(kFirstMinute + index) + ":20 +0000";
}

std::vector<std::string> headers(int index, std::string_view subject) {
  return {
      "Return-Path: <postmaster@localhost>",
      "From: Poplar <postmaster@localhost>",
      "To: Demo User <demo@localhost>",
      "Subject: " + std::string(subject),
      date_header(index),
      "Message-ID: <" + std::to_string(kFirstTimestamp + 60 * index) + "." +
          std::to_string(index + 1) + "@demo.poplar.invalid>",
      "MIME-Version: 1.0",
  };
}

std::string base_name(int index) {
  // Maildir's unique name: time.M<usec>P<pid>Q<delivery>.host — fixed values, see above.
  std::string n = std::to_string(index + 1);
  return std::to_string(kFirstTimestamp + 60 * index) + ".M" + n + "P1Q" + n + ".demo";
}

// RFC 4648 §4 base64 with 76-character lines (RFC 2045 §6.8). Only the demo attachment needs it.
std::vector<std::string> base64_lines(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string encoded;
  for (size_t i = 0; i < data.size(); i += 3) {
    uint32_t chunk = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (i + 1 < data.size()) {
      chunk |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    }
    if (i + 2 < data.size()) {
      chunk |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 2]));
    }
    encoded += kAlphabet[(chunk >> 18) & 63];
    encoded += kAlphabet[(chunk >> 12) & 63];
    encoded += i + 1 < data.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    encoded += i + 2 < data.size() ? kAlphabet[chunk & 63] : '=';
  }
  std::vector<std::string> lines;
  for (size_t i = 0; i < encoded.size(); i += 76) {
    lines.push_back(encoded.substr(i, 76));
  }
  return lines;
}

DemoMessage welcome_message() {
  std::vector<std::string> lines = headers(0, "Welcome to Poplar");
  lines.insert(lines.end(), {
                                "Content-Type: text/plain; charset=us-ascii",
                                "",
                                "Hello, and welcome to Poplar, a POP3 mail server written in C++.",
                                "",
                                "You are reading this over POP3 from a Maildir on this machine.",
                                "The demo server listens on loopback only and knows one user,",
                                "\"demo\", with the password \"demo\".",
                                "",
                                "Things to try by hand (telnet or nc):",
                                "",
                                "  USER demo / PASS demo   log in (loopback only, or over TLS)",
                                "  STAT                    message count and total size",
                                "  LIST / UIDL             sizes and unique ids of all messages",
                                "  TOP 2 0                 only the headers of message 2",
                                "  RETR 2                  message 2, with its dot lines stuffed",
                                "  DELE 1                  mark message 1 for deletion",
                                "  RSET                    unmark everything",
                                "  QUIT                    leave; deletions happen only now",
                                "",
                                "The other messages each show one thing a POP3 server must get",
                                "right: lines that start with a dot, a MIME attachment, a big",
                                "message, and a file stored with bare LF line ends.",
                                "",
                                "Messages you delete are gone from the demo mailbox. When it is",
                                "empty, the next `poplar serve --demo` puts these five back.",
                                "",
                                "-- ",
                                "Poplar",
                            });
  return {base_name(0), join_lines(lines, "\r\n")};
}

DemoMessage dot_message() {
  std::vector<std::string> lines = headers(1, "Lines that start with a dot");
  lines.insert(lines.end(), {
                                "Content-Type: text/plain; charset=us-ascii",
                                "",
                                "A POP3 multi-line reply ends with a line holding a single dot.",
                                "So when a line of the message itself starts with a dot, the",
                                "server sends one more dot in front of it, and the client takes",
                                "it away again (RFC 1939 section 3, \"byte-stuffing\").",
                                "",
                                "The lines between the two rulers below start with dots. Your",
                                "client should show them exactly like this, and this message",
                                "must not end early at the lone dot:",
                                "",
                                "----------------------------------------",
                                ".",
                                "..",
                                "...",
                                ".hidden-looking file name",
                                ". a dot and a space",
                                "..two dots",
                                "----------------------------------------",
                                "",
                                "With telnet, RETR 2 shows the stuffed form: \"..\" for the lone",
                                "dot, \"...\" for two dots, and so on. LIST counts the size",
                                "without the added dots.",
                            });
  return {base_name(1), join_lines(lines, "\r\n")};
}

DemoMessage mime_message() {
  const std::string attachment = join_lines(
      {
          "POP3 in one page",
          "",
          "AUTHORIZATION state:   USER name, PASS secret, APOP name digest, AUTH mechanism,",
          "                       CAPA, STLS, QUIT",
          "TRANSACTION state:     STAT, LIST [n], UIDL [n], RETR n, TOP n lines, DELE n,",
          "                       NOOP, RSET, QUIT",
          "UPDATE state:          entered by QUIT; marked messages are removed",
          "",
          "Every reply starts with +OK or -ERR. Multi-line replies end with \".\".",
      },
      "\r\n");
  const std::string boundary = "poplar-demo-boundary-7f3a";
  std::vector<std::string> lines = headers(2, "A message with an attachment");
  lines.insert(lines.end(), {
                                "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"",
                                "",
                                "This is a multi-part message in MIME format.",
                                "",
                                "--" + boundary,
                                "Content-Type: text/plain; charset=us-ascii",
                                "Content-Transfer-Encoding: 7bit",
                                "",
                                "This message has two parts: this text, and a small attachment,",
                                "pop3-cheatsheet.txt, encoded in base64 as mail clients do.",
                                "",
                                "POP3 itself knows nothing of MIME: RETR sends the whole message",
                                "and your mail client takes it apart. TOP 3 10 shows the headers",
                                "and the first ten lines of the body.",
                                "",
                                "--" + boundary,
                                "Content-Type: text/plain; charset=us-ascii; "
                                "name=\"pop3-cheatsheet.txt\"",
                                "Content-Transfer-Encoding: base64",
                                "Content-Disposition: attachment; filename=\"pop3-cheatsheet.txt\"",
                                "",
                            });
  for (std::string& l : base64_lines(attachment)) {
    lines.push_back(std::move(l));
  }
  lines.push_back("");
  lines.push_back("--" + boundary + "--");
  return {base_name(2), join_lines(lines, "\r\n")};
}

DemoMessage long_message() {
  std::vector<std::string> lines = headers(3, "A long message (about 200 KB)");
  lines.push_back("Content-Type: text/plain; charset=us-ascii");
  lines.push_back("");
  lines.push_back("This message is long so that you can watch a client download it, and so");
  lines.push_back("that the server has to send it in many pieces. Its lines are numbered;");
  lines.push_back("the last one says how many there are.");
  lines.push_back("");
  // A few sentences, rotated so that the text does not compress to nothing in a capture.
  static constexpr std::string_view kWords[] = {
      "Poplar streams every message from disk",  "and never holds a whole message in memory,",
      "so a big mailbox costs little to serve.", "Lines end in CRLF on the wire,",
      "a leading dot gets another dot,",         "and LIST reports the exact size in octets.",
  };
  std::string body = join_lines(lines, "\r\n");
  size_t n = 0;
  while (body.size() < kLongMessageBytes) {
    ++n;
    std::string line = "Line " + std::to_string(n) + ": ";
    line += kWords[n % std::size(kWords)];
    line += ' ';
    line += kWords[(n + 1) % std::size(kWords)];
    body += line;
    body += "\r\n";
  }
  body += "This was line " + std::to_string(n) + ", the last numbered line.\r\n";
  return {base_name(3), std::move(body)};
}

DemoMessage lf_message() {
  std::vector<std::string> lines = headers(4, "Stored with LF line ends");
  lines.insert(lines.end(), {
                                "Content-Type: text/plain; charset=us-ascii",
                                "",
                                "Unix mail delivery agents usually store messages with a bare",
                                "LF at the end of each line, as this file is. POP3 needs CRLF",
                                "on the wire, so Poplar adds the CR while it sends.",
                                "",
                                "The size that LIST reports is the size on the wire: this file",
                                "is one octet shorter per line than LIST says.",
                            });
  return {base_name(4), join_lines(lines, "\n")};
}

// The size a POP3 client receives (before dot-stuffing): every bare LF becomes CRLF. Dovecot
// stores the same number in the file name as W=, so STAT/LIST need not read the files.
size_t wire_size(std::string_view content) {
  size_t size = content.size();
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\n' && (i == 0 || content[i - 1] != '\r')) {
      ++size;
    }
  }
  return size;
}

Status make_dir(const fs::path& dir, mode_t mode) {
  if (::mkdir(dir.c_str(), mode) == 0) {
    return Status::ok();
  }
  int err = errno;
  struct stat st {};
  if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Status::ok();
  }
  return Status::from_errno(err, "mkdir " + dir.string());
}

Status write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::from_errno(errno, "write " + path.string());
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

// Writes `content` to `temp` and renames it to `target`, so a reader (or a crash) never sees a
// half-written file: the config and passwd-file are replaced whole, and messages appear in new/
// complete, as the Maildir protocol requires (deliver to tmp/, then rename).
Status write_then_rename(const fs::path& temp, const fs::path& target, std::string_view content,
                         mode_t mode) {
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return Status::from_errno(errno, "create " + temp.string());
  }
  Status s = write_all(fd, content, temp);
  if (s.is_ok() && ::fsync(fd) != 0) {
    s = Status::from_errno(errno, "fsync " + temp.string());
  }
  if (::close(fd) != 0 && s.is_ok()) {
    s = Status::from_errno(errno, "close " + temp.string());
  }
  if (s.is_ok() && ::rename(temp.c_str(), target.c_str()) != 0) {
    s = Status::from_errno(errno, "rename " + temp.string() + " to " + target.string());
  }
  if (!s.is_ok()) {
    ::unlink(temp.c_str());
  }
  return s;
}

// Messages in a Maildir sub-directory (names starting with '.' are not messages).
Result<size_t> count_messages(const fs::path& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return Status::from_errno(errno, "opendir " + dir.string());
  }
  size_t count = 0;
  while (dirent* entry = ::readdir(d)) {
    if (entry->d_name[0] != '.') {
      ++count;
    }
  }
  ::closedir(d);
  return count;
}

std::string config_text(uint16_t port, uint16_t tls_port) {
  std::string address = "127.0.0.1:" + std::to_string(port);
  std::string tls_address = "127.0.0.1:" + std::to_string(tls_port);
  return "# Poplar demo configuration, written by `poplar serve --demo`.\n"
         "# It is rewritten at every demo start: copy it elsewhere to experiment.\n"
         "# docs/configuration.md describes every key.\n"
         "\n"
         "hostname = \"localhost\"\n"
         "\n"
         "# POP3 on loopback that offers STLS (RFC 2595), and POP3S: TLS from the first byte\n"
         "# (RFC 8314). Both on loopback only.\n"
         "[[listen]]\n"
         "address = \"" +
         address +
         "\"\n"
         "tls = \"starttls\"\n"
         "\n"
         "[[listen]]\n"
         "address = \"" +
         tls_address +
         "\"\n"
         "tls = \"implicit\"\n"
         "\n"
         "# A self-signed certificate for localhost and 127.0.0.1, made once by the demo; clients\n"
         "# must be told to trust it (curl -k, or --cacert tls/cert.pem).\n"
         "[tls]\n"
         "certificate = \"tls/cert.pem\"\n"
         "private_key = \"tls/key.pem\"\n"
         "\n"
         "[auth]\n"
         "passwd_file = \"users\"          # relative paths are relative to this file\n"
         "apop = true                    # works because the demo password is stored as {PLAIN}\n"
         "plaintext_without_tls = false  # USER/PASS still work here: loopback counts as safe\n"
         "\n"
         "[mail]\n"
         "location = \"maildir:%h/Maildir\"  # %h: the home directory from the passwd-file\n";
}

std::string users_text(const fs::path& home) {
  // Dovecot passwd-file: user:password:uid:gid:(gecos):home:(shell):extra. The demo stores the
  // password as {PLAIN} so that APOP (which needs the clear password) can be tried as well; a real
  // site stores a slow hash, e.g. an {ARGON2ID} line made with `poplar hash`.
  return "# Poplar demo users, written by `poplar serve --demo`. Demo only: the password is\n"
         "# stored in plain text so that APOP works; a real site stores a hash (`poplar hash`).\n"
         "demo:{PLAIN}demo:" +
         std::to_string(getuid()) + ":" + std::to_string(getgid()) + "::" + home.string() + "::\n";
}

std::string how_to_connect_text(const DemoSetup& setup, uint16_t port, uint16_t tls_port) {
  std::string p = std::to_string(port);
  std::string tp = std::to_string(tls_port);
  std::string host = "127.0.0.1";
  return "Poplar demo: user \"demo\", password \"demo\", on " + host + ":" + p +
         " (POP3 with STLS) and " + host + ":" + tp + " (POP3S, implicit TLS).\n" +
         "  config:      " + setup.config_path + "\n" + "  maildir:     " + setup.maildir + "\n" +
         "  certificate: " + setup.certificate + " (self-signed)\n\n" + "Try it:\n" +
         "  curl pop3://demo:demo@" + host + ":" + p + "/      # LIST\n" +
         "  curl pop3://demo:demo@" + host + ":" + p + "/1     # RETR 1\n" +
         "  curl -k pop3s://demo:demo@" + host + ":" + tp + "/1     # RETR 1 over TLS\n" +
         "  curl -k --ssl-reqd pop3://demo:demo@" + host + ":" + p + "/   # LIST after STLS\n" +
         "  python3 -c 'import poplib; p = poplib.POP3(\"" + host + "\", " + p +
         "); p.user(\"demo\"); p.pass_(\"demo\"); print(p.stat()); p.quit()'\n" +
         "  python3 -c 'import poplib; p = poplib.POP3(\"" + host + "\", " + p +
         "); p.apop(\"demo\", \"demo\"); print(p.list()); p.quit()'\n" +
         "  openssl s_client -connect " + host + ":" + tp +
         "     # then: USER demo, PASS demo, LIST, QUIT\n" +
         "  openssl s_client -starttls pop3 -connect " + host + ":" + p + "\n" + "  telnet " +
         host + " " + p + "    # then: USER demo, PASS demo, LIST, RETR 2, QUIT\n";
}

}  // namespace

Result<DemoSetup> prepare_demo(const std::string& data_dir, uint16_t port, uint16_t tls_port) {
  std::error_code ec;
  fs::path root = fs::absolute(data_dir, ec);
  if (ec) {
    return Status::from_errno(ec.value(), "resolve " + data_dir);
  }
  root = root.lexically_normal();
  if (!root.has_filename()) {
    root = root.parent_path();  // "dir/" normalises to "dir/"; drop the trailing '/'
  }
  fs::create_directories(root, ec);
  if (ec) {
    return Status::from_errno(ec.value(), "create " + root.string());
  }

  DemoSetup setup;
  setup.data_dir = root.string();
  setup.config_path = (root / "poplar.toml").string();
  fs::path home = root / "home" / kDemoUser;
  fs::path maildir = home / "Maildir";
  setup.maildir = maildir.string();

  // A mailbox is private: 0700 as Maildir writers (and Dovecot) create them.
  for (const fs::path& dir :
       {root / "home", home, maildir, maildir / "cur", maildir / "new", maildir / "tmp"}) {
    Status s = make_dir(dir, dir == root / "home" ? 0755 : 0700);
    if (!s.is_ok()) {
      return s;
    }
  }

  Status s = write_then_rename(root / ".users.tmp", root / "users", users_text(home), 0600);
  if (!s.is_ok()) {
    return s;
  }
  s = write_then_rename(root / ".poplar.toml.tmp", setup.config_path, config_text(port, tls_port),
                        0644);
  if (!s.is_ok()) {
    return s;
  }
  // The certificate is made once and kept, so that a client told to trust it keeps trusting it.
  fs::path tls_dir = root / "tls";
  setup.certificate = (tls_dir / "cert.pem").string();
  s = make_dir(tls_dir, 0700);
  if (!s.is_ok()) {
    return s;
  }
  if (!fs::exists(tls_dir / "cert.pem") || !fs::exists(tls_dir / "key.pem")) {
    s = tls::write_self_signed(setup.certificate, (tls_dir / "key.pem").string(), {"localhost"});
    if (!s.is_ok()) {
      return s;
    }
  }

  size_t existing = 0;
  for (const char* sub : {"new", "cur"}) {
    Result<size_t> n = count_messages(maildir / sub);
    if (!n.is_ok()) {
      return n.status();
    }
    existing += *n;
  }
  if (existing == 0) {
    for (const DemoMessage& m :
         {welcome_message(), dot_message(), mime_message(), long_message(), lf_message()}) {
      std::string name = m.base_name + ",S=" + std::to_string(m.content.size()) +
                         ",W=" + std::to_string(wire_size(m.content));
      s = write_then_rename(maildir / "tmp" / name, maildir / "new" / name, m.content, 0600);
      if (!s.is_ok()) {
        return s;
      }
    }
    setup.wrote_messages = true;
  }
  setup.how_to_connect = how_to_connect_text(setup, port, tls_port);
  return setup;
}

}  // namespace poplar::server
