// Fuzzes POP4 PART end to end in the sans-I/O server session: the input is a stored message
// (any bytes; its first octet also picks the read size and whether the session issued UTF8),
// alice logs in, and the session is asked for "PART 1", then for every section it lists,
// "PART 1 section" and "PART 1 section MIME". Checks: no crash or sanitizer report; every
// listing line is at most 510 octets, has no control byte, is `section type octets ["name"]`
// and names the sections mime::parse_structure finds, in order; every part reply's un-stuffed
// data is exactly the octets its "+OK" announced, and is the stored range (header or body)
// with every line end as CRLF; a message over the limits is refused with [SYS/PERM].
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "mime/mime_structure.h"
#include "pop3/server_session.h"
#include "testing/fake_clock.h"
#include "testing/fake_maildrop.h"
#include "testing/fake_random.h"

namespace {

using poplar::pop3::ActionKind;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// Runs actions until the session wants input; returns everything it wrote.
std::string drive(poplar::pop3::ServerSession& session,
                  const std::shared_ptr<poplar::testing::FakeMaildropData>& data) {
  std::string out;
  for (int steps = 0; steps < 1000000; ++steps) {
    switch (session.next_action()) {
      case ActionKind::kRead:
        return out;
      case ActionKind::kWrite: {
        std::string_view o = session.pending_output();
        check(!o.empty());
        out.append(o);
        session.consume_output(o.size());
        break;
      }
      case ActionKind::kAuthenticate: {
        poplar::auth::AuthResult result;
        result.user.name = "alice";
        session.on_auth_result(std::move(result));
        break;
      }
      case ActionKind::kOpenMaildrop:
        session.on_maildrop_opened(
            poplar::store::MaildropPtr(std::make_unique<poplar::testing::FakeMaildrop>(data)));
        break;
      case ActionKind::kCommitUpdate:
      case ActionKind::kStartTls:
      case ActionKind::kClose:
        std::abort();  // nothing here asks for these, and a read error cannot happen
    }
  }
  std::abort();  // the session never settled
}

std::string ask(poplar::pop3::ServerSession& session,
                const std::shared_ptr<poplar::testing::FakeMaildropData>& data,
                const std::string& command) {
  session.receive(command + "\r\n");
  return drive(session, data);
}

// The stored range as a client keeps it: CRLF line ends, a CRLF added at the end if missing.
std::string wire_form(std::string_view stored) {
  std::string out;
  for (size_t i = 0; i < stored.size(); ++i) {
    if (stored[i] == '\n' && (i == 0 || stored[i - 1] != '\r')) {
      out += '\r';
    }
    out += stored[i];
  }
  if (!stored.empty() && stored.back() != '\n') {
    out += "\r\n";
  }
  return out;
}

// A multi-line reply: the status line, then data lines un-stuffed; the reply must be whole.
struct Reply {
  std::string status;
  std::vector<std::string> lines;
};

Reply parse_reply(std::string_view out) {
  Reply reply;
  size_t end = out.find("\r\n");
  check(end != std::string_view::npos);
  reply.status = std::string(out.substr(0, end));
  if (reply.status.rfind("+OK", 0) != 0) {
    check(end + 2 == out.size());  // one -ERR line, nothing else
    return reply;
  }
  size_t pos = end + 2;
  for (;;) {
    end = out.find("\r\n", pos);
    check(end != std::string_view::npos);
    std::string_view line = out.substr(pos, end - pos);
    pos = end + 2;
    if (line == ".") {
      break;
    }
    if (!line.empty() && line[0] == '.') {
      line.remove_prefix(1);
    }
    reply.lines.emplace_back(line);
  }
  check(pos == out.size());
  return reply;
}

void check_listing_line(std::string_view line, const poplar::mime::PartInfo& part) {
  check(line.size() <= 510);
  for (unsigned char c : line) {
    check(c >= 0x20 && c != 0x7f);
  }
  const std::string prefix = part.section + " ";
  check(line.substr(0, prefix.size()) == prefix);
  size_t type_end = line.find(' ', prefix.size());
  check(type_end != std::string_view::npos);
  std::string_view type = line.substr(prefix.size(), type_end - prefix.size());
  check(type.find('/') != std::string_view::npos);
  std::string_view rest = line.substr(type_end + 1);
  const std::string octets = std::to_string(part.body.wire_octets);
  check(rest.substr(0, octets.size()) == octets);
  rest.remove_prefix(octets.size());
  if (!rest.empty()) {
    check(rest.size() >= 3 && rest.substr(0, 2) == " \"" && rest.back() == '"');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const bool quiet = [] {
    poplar::log::set_min_level(poplar::log::Level::kError);
    return true;
  }();
  (void)quiet;
  const std::string message(reinterpret_cast<const char*>(bytes), size);
  const unsigned char knobs = size > 0 ? bytes[0] : 0;
  auto data = std::make_shared<poplar::testing::FakeMaildropData>();
  poplar::testing::FakeMessage stored;
  stored.content = message;
  stored.uidl = "uid-1";
  data->messages.push_back(stored);
  data->read_chunk_octets = 1 + knobs % 64;

  poplar::pop3::SessionConfig config;
  config.pop4.parts = true;
  config.part_limits.max_parts = 64;  // small limits, so the fuzzer reaches them
  config.part_limits.max_depth = 8;
  poplar::testing::FakeClock clock;
  poplar::testing::FakeRandom random;
  poplar::pop3::ServerSession session(config, clock, random, "192.0.2.1");
  session.start();
  drive(session, data);
  if (knobs & 0x80) {
    ask(session, data, "UTF8");
  }
  ask(session, data, "USER alice");
  ask(session, data, "PASS secret");
  check(session.state() == poplar::pop3::SessionState::kTransaction);

  auto parts = poplar::mime::parse_structure(message, config.part_limits);
  Reply listing = parse_reply(ask(session, data, "PART 1"));
  if (!parts.is_ok()) {
    check(listing.status == "-ERR [SYS/PERM] Message is too complex for PART; use RETR.");
    return 0;
  }
  check(listing.lines.size() == parts->size());
  for (size_t i = 0; i < parts->size(); ++i) {
    const poplar::mime::PartInfo& part = (*parts)[i];
    check_listing_line(listing.lines[i], part);
    for (bool mime : {false, true}) {
      const poplar::mime::Extent& extent = mime ? part.header : part.body;
      Reply reply =
          parse_reply(ask(session, data, "PART 1 " + part.section + (mime ? " MIME" : "")));
      check(reply.status == "+OK " + std::to_string(extent.wire_octets));
      std::string got;
      for (const std::string& line : reply.lines) {
        got += line + "\r\n";
      }
      check(got.size() == extent.wire_octets);
      check(got == wire_form(std::string_view(message).substr(extent.offset, extent.length)));
    }
  }
  return 0;
}
