// `poplar serve --demo` (what `make run` calls): writes everything a newcomer needs to try Poplar
// in a minute into one data directory — a config file, a passwd-file with demo/demo, and a
// Maildir with a few messages that show what POP3 has to get right (dot-stuffing, MIME, a big
// message, LF line ends). The server then loads the config like any other.
//
// Layout under data_dir:
//   poplar.toml                     rewritten every time (the port may differ between runs)
//   users                           rewritten every time (uid/gid are the current process's)
//   tls/cert.pem, tls/key.pem       a self-signed certificate for localhost/127.0.0.1, made once
//                                   (the key 0600)
//   home/demo/Maildir/{cur,new,tmp} messages written only when the Maildir holds none, so a
//                                   demo mailbox that was used (read, flagged, deleted from)
//                                   keeps its state across restarts
//
// Thread-safety: touches the file system without locking; do not run two demos on one data_dir
// at once.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace poplar::server {

inline constexpr char kDemoUser[] = "demo";
inline constexpr char kDemoPassword[] = "demo";

struct DemoSetup {
  std::string data_dir;         // absolute
  std::string config_path;      // data_dir + "/poplar.toml", for load_config()
  std::string maildir;          // the demo user's Maildir
  std::string certificate;      // data_dir + "/tls/cert.pem"
  bool wrote_messages = false;  // false when an existing mailbox was kept as it was
  std::string how_to_connect;   // multi-line "how to connect" text for the terminal
};

// Creates data_dir (and parents) if needed and fills it as described above. The config serves
// 127.0.0.1:port with STLS and 127.0.0.1:tls_port with implicit TLS (DESIGN §5).
// Error codes: those of Status::from_errno (kPermission, kNotFound, kTemporary) naming the path.
Result<DemoSetup> prepare_demo(const std::string& data_dir, uint16_t port,
                               uint16_t tls_port = 1995);

}  // namespace poplar::server
