// THE one place that turns an internal ErrorCode into what a POP3 client sees: an RFC 2449 §8 /
// RFC 3206 response code and a generic text (Dovecot's client_send_storage_error()). Clients
// never see Status messages: those may name files, users or errno text and go to the log.
//
//   kInUse                                   -> [IN-USE]
//   kLoginDelay                              -> [LOGIN-DELAY]
//   kAuthFailed                              -> [AUTH]
//   kTemporary, kNotFound, kLimit            -> [SYS/TEMP]
//   kPermanent, kCorrupt, kPermission,
//   kInvalidInput, kUnavailable              -> [SYS/PERM]
// except while authenticating, where kNotFound and kInvalidInput are credential failures
// ([AUTH], same text as a wrong password: the client must not learn whether a user exists,
// RFC 1939 §13), and in POP4 folder and flag commands (Operation::kFolder), where kInvalidInput
// and kLimit are the client's own mistakes (a bad folder name, a non-empty folder, a 27th
// keyword): no response code for kInvalidInput, [SYS/PERM] for kLimit, and an empty text, which
// tells the caller to send the store's Status message. Those messages are written for clients
// (store/folders.h: they say which rule was broken and never repeat the name); kNotFound is
// "No such folder."
//
// No I/O. Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "base/status.h"
#include "pop3/response.h"

namespace poplar::pop3 {

// What the server was doing when the error happened; it selects the wording.
enum class Operation {
  kAuthenticate,  // PASS / APOP / AUTH credential check
  kOpenMaildrop,  // opening and locking the maildrop after authentication
  kReadMessage,   // RETR / TOP opening a message
  kCommitUpdate,  // UPDATE state after QUIT
  kFolder,        // a POP4 folder, flag or STOR command calling store::Folders
};

struct WireError {
  ResponseCode code;
  std::string_view text;  // generic, static, safe to send; empty: send the Status message
};

WireError map_error(ErrorCode code, Operation operation);

}  // namespace poplar::pop3
