// ErrorCode -> response code + generic text; see error_mapping.h. No I/O.
#include "pop3/error_mapping.h"

namespace poplar::pop3 {
namespace {

constexpr std::string_view kAuthFailedText = "Authentication failed.";

std::string_view temporary_text(Operation operation) {
  switch (operation) {
    case Operation::kAuthenticate:
      return "Authentication is temporarily unavailable; try again later.";
    case Operation::kOpenMaildrop:
      return "Mailbox is temporarily unavailable; try again later.";
    case Operation::kReadMessage:
      return "Message is temporarily unavailable.";
    case Operation::kCommitUpdate:
      return "Some deleted messages were not removed.";
    case Operation::kFolder:
      return "Folder is temporarily unavailable; try again later.";
  }
  return "Temporary server problem; try again later.";
}

std::string_view permanent_text(Operation operation) {
  switch (operation) {
    case Operation::kAuthenticate:
      return "Account unavailable; contact your administrator.";
    case Operation::kOpenMaildrop:
      return "Mailbox unavailable; contact your administrator.";
    case Operation::kReadMessage:
      return "Message unavailable; contact your administrator.";
    case Operation::kCommitUpdate:
      return "Some deleted messages were not removed.";
    case Operation::kFolder:
      return "Folder unavailable; contact your administrator.";
  }
  return "Permanent server problem; contact your administrator.";
}

}  // namespace

WireError map_error(ErrorCode code, Operation operation) {
  if (operation == Operation::kFolder) {
    switch (code) {
      case ErrorCode::kInvalidInput:
        return {ResponseCode::kNone, ""};  // the store's message explains the rule
      case ErrorCode::kLimit:
        return {ResponseCode::kSysPerm, ""};
      case ErrorCode::kNotFound:
        return {ResponseCode::kNone, "No such folder."};
      case ErrorCode::kInUse:
        return {ResponseCode::kInUse, "Folder is in use by another session."};
      default:
        break;
    }
  }
  switch (code) {
    case ErrorCode::kInUse:
      return {ResponseCode::kInUse, "Mailbox is locked by another session."};
    case ErrorCode::kLoginDelay:
      return {ResponseCode::kLoginDelay, "Logged in too recently; try again later."};
    case ErrorCode::kAuthFailed:
      return {ResponseCode::kAuth, kAuthFailedText};
    case ErrorCode::kNotFound:
    case ErrorCode::kInvalidInput:
      if (operation == Operation::kAuthenticate) {
        return {ResponseCode::kAuth, kAuthFailedText};
      }
      if (code == ErrorCode::kNotFound) {
        return {ResponseCode::kSysTemp, temporary_text(operation)};
      }
      return {ResponseCode::kSysPerm, permanent_text(operation)};
    case ErrorCode::kOk:  // not an error; treated as the safest kind if it ever gets here
    case ErrorCode::kTemporary:
    case ErrorCode::kLimit:
      return {ResponseCode::kSysTemp, temporary_text(operation)};
    case ErrorCode::kPermanent:
    case ErrorCode::kCorrupt:
    case ErrorCode::kPermission:
    case ErrorCode::kUnavailable:
      return {ResponseCode::kSysPerm, permanent_text(operation)};
  }
  return {ResponseCode::kSysTemp, temporary_text(operation)};
}

}  // namespace poplar::pop3
