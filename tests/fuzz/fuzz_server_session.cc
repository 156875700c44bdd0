// Fuzzes the whole sans-I/O server session with arbitrary client bytes: the input is cut into
// pieces whose sizes come from the input itself, fed to a ServerSession with an in-memory
// maildrop and a fake authenticator (alice/secret; SASL mechanisms and STLS offered), and every
// action is carried out as the network driver would, until the session closes. Checks: no crash, no
// sanitizer report, the session always ends, every reply's first line fits in 512 octets (RFC 2449
// §4), and nothing is deleted unless the input contained QUIT. When the first octet has bit 16
// set, the POP4 abilities are on and the maildrop is a MemoryStore's, with folders (Work,
// Work/2024, "Sent Items" holding a message): LFLD, SFLD, CFLD, ..., STOR and its data lines.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "base/log.h"
#include "pop3/server_session.h"
#include "store/memory/memory_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_maildrop.h"
#include "testing/fake_random.h"

namespace {

using poplar::pop3::ActionKind;

// The same messages in a MemoryStore, with folders to select, rename and store into.
std::unique_ptr<poplar::store::memory::MemoryStore> make_folder_store(
    const poplar::testing::FakeMaildropData& data) {
  auto store = std::make_unique<poplar::store::memory::MemoryStore>();
  for (const auto& message : data.messages) {
    (void)store->add_message_with_uidl("alice", message.uidl, message.content);
  }
  auto drop = store->open_maildrop("alice");
  if (drop.is_ok()) {
    poplar::store::Folders* folders = (*drop)->folders();
    (void)folders->create("Work/2024");
    (void)folders->create("Sent Items");
    if (auto writer = folders->begin_store("Sent Items", {}); writer.is_ok()) {
      (void)(*writer)->write("Subject: sent\r\n\r\n.dot\r\n");
      (void)(*writer)->commit();
    }
  }
  return store;
}

std::shared_ptr<poplar::testing::FakeMaildropData> make_maildrop() {
  auto data = std::make_shared<poplar::testing::FakeMaildropData>();
  for (auto [content, uidl] :
       {std::pair{"Subject: one\r\n\r\nbody\r\n.dot\r\n", "uid-1"},
        std::pair{"Subject: two\n\nno final newline", "uid-2"}, std::pair{"", "uid-3"},
        std::pair{"Subject: Gr\xc3\xbc\xc3\x9f"
                  "e\r\n\r\nx\r\n",
                  "uid-4"}}) {
    poplar::testing::FakeMessage message;
    message.content = content;
    message.uidl = uidl;
    data->messages.push_back(std::move(message));
  }
  data->read_chunk_octets = 5;
  return data;
}

// Drives the session until it wants input or closes. Returns false once closed.
// `folder_store`: when set, the maildrop comes from it (POP4 folders) instead of `data`.
bool drive(poplar::pop3::ServerSession& session,
           const std::shared_ptr<poplar::testing::FakeMaildropData>& data,
           poplar::store::memory::MemoryStore* folder_store, std::string& out) {
  for (int steps = 0; steps < 1000000; ++steps) {
    switch (session.next_action()) {
      case ActionKind::kRead:
        return true;
      case ActionKind::kWrite: {
        std::string_view o = session.pending_output();
        if (o.empty()) {
          std::abort();  // kWrite with nothing to write would spin a driver
        }
        out.append(o.substr(0, o.size() / 2 + 1));
        session.consume_output(o.size() / 2 + 1);
        break;
      }
      case ActionKind::kAuthenticate: {
        const auto& request = session.auth_request();
        poplar::auth::AuthResult result;
        if (request.method == poplar::auth::AuthMethod::kScramLookup) {
          // Fixed keys (no PBKDF2 per run): the exchange runs to the proof, which fails.
          poplar::sasl::ScramCredentials keys;
          keys.hash = request.scram_hash;
          keys.salt = "fuzz-salt";
          keys.stored_key = std::string(32, 'k');
          keys.server_key = std::string(32, 's');
          result.scram = keys;
          if (request.user != "alice") {
            result.status = poplar::Status::error(poplar::ErrorCode::kAuthFailed, "unknown");
          } else {
            result.user.name = "alice";
          }
        } else if (request.user == "alice" && request.password.view() == "secret") {
          result.user.name = "alice";
        } else if (request.user == "temp") {
          result.status = poplar::Status::temporary("passwd-file unreadable");
        } else {
          result.status = poplar::Status::error(poplar::ErrorCode::kAuthFailed, "mismatch");
        }
        session.on_auth_result(std::move(result));
        break;
      }
      case ActionKind::kOpenMaildrop:
        if (folder_store != nullptr) {
          session.on_maildrop_opened(folder_store->open_maildrop("alice"));
        } else {
          session.on_maildrop_opened(
              poplar::store::MaildropPtr(std::make_unique<poplar::testing::FakeMaildrop>(data)));
        }
        break;
      case ActionKind::kCommitUpdate:
        session.on_update_committed(session.run_update());
        break;
      case ActionKind::kStartTls: {
        // A handshake that succeeds at once: drop what was pipelined, as the driver does.
        std::string_view o = session.pending_output();
        out.append(o);
        session.consume_output(o.size());
        session.on_tls_started(poplar::pop3::TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256",
                                                     std::string(32, 'e'), std::string(32, 's')});
        break;
      }
      case ActionKind::kClose:
        return false;
    }
  }
  std::abort();  // the session never settled: a livelock
}

void check_first_lines(std::string_view out) {
  // Every line of our output is at most 512 octets with CRLF, except message data lines
  // (which come from the store and are unlimited); fake messages here are short.
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find("\r\n", start);
    if (end == std::string_view::npos) {
      end = out.size();
    }
    // SASL challenges ("+ " lines) echo client data (a SCRAM nonce) and are not status lines.
    const bool challenge = out.substr(start, 2) == "+ ";
    if (!challenge && end - start + 2 > 512) {
      std::abort();
    }
    start = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const bool quiet = [] {
    poplar::log::set_min_level(poplar::log::Level::kError);  // millions of login lines otherwise
    return true;
  }();
  (void)quiet;
  std::string_view input(reinterpret_cast<const char*>(bytes), size);
  poplar::testing::FakeClock clock;
  poplar::testing::FakeRandom random;
  poplar::pop3::SessionConfig config;
  config.apop = size > 0 && (bytes[0] & 1);
  config.starttls_available = size > 0 && (bytes[0] & 2);
  config.plaintext_allowed = size == 0 || !(bytes[0] & 4);
  config.refuse_utf8_headers = size > 0 && (bytes[0] & 8);
  config.sasl_mechanisms = {"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"};
  config.hostname = "fuzz.example.org";
  auto data = make_maildrop();
  std::unique_ptr<poplar::store::memory::MemoryStore> folder_store;
  if (size > 0 && (bytes[0] & 16)) {
    config.pop4.folders = config.pop4.flags = config.pop4.parts = true;
    config.max_stor_octets = 1000;
    folder_store = make_folder_store(*data);
  }
  std::string out;
  {
    poplar::pop3::ServerSession session(config, clock, random, "192.0.2.1");
    session.start();
    bool open = drive(session, data, folder_store.get(), out);
    size_t pos = 0;
    while (open && pos < input.size()) {
      // Piece sizes taken from the input: 1..16 octets, so splits land everywhere.
      size_t piece = 1 + (static_cast<unsigned char>(input[pos]) % 16);
      session.receive(input.substr(pos, piece));
      pos += piece;
      open = drive(session, data, folder_store.get(), out);
    }
    if (open) {
      session.on_eof();
      if (drive(session, data, folder_store.get(), out)) {
        std::abort();  // after EOF a session must close, not wait for input
      }
    }
  }
  check_first_lines(out);
  bool quit_seen = false;
  for (size_t i = 0; i + 4 <= input.size(); ++i) {
    if ((input[i] | 0x20) == 'q' && (input[i + 1] | 0x20) == 'u' && (input[i + 2] | 0x20) == 'i' &&
        (input[i + 3] | 0x20) == 't') {
      quit_seen = true;
    }
  }
  if (!data->commits.empty() && !quit_seen) {
    std::abort();  // a deletion without QUIT
  }
  if (folder_store != nullptr && !quit_seen &&
      folder_store->uidls("alice").size() < data->messages.size()) {
    std::abort();  // an INBOX message gone without QUIT (COPY and STOR only add)
  }
  return 0;
}
