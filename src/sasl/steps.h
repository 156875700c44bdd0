// Small constructors for ServerStep/ClientStep shared by the mechanism files. Internal to sasl/.
// Reasons are for the log: they name what was wrong, never the bytes that were sent.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <utility>

#include "sasl/mechanism.h"

namespace poplar::sasl::internal {

inline ServerStep challenge(std::string data) {
  ServerStep step;
  step.kind = ServerStep::Kind::kChallenge;
  step.data = std::move(data);
  return step;
}

inline ServerStep failure(std::string reason, std::string data = {}) {
  ServerStep step;
  step.kind = ServerStep::Kind::kFailure;
  step.reason = std::move(reason);
  step.data = std::move(data);
  return step;
}

inline ClientStep respond(std::string response) {
  ClientStep step;
  step.kind = ClientStep::Kind::kRespond;
  step.response = std::move(response);
  return step;
}

inline ClientStep client_failure(std::string error) {
  ClientStep step;
  step.kind = ClientStep::Kind::kFailure;
  step.error = std::move(error);
  return step;
}

}  // namespace poplar::sasl::internal
