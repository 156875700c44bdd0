// The default behaviour of ServerMechanism (mechanism.h): credentials arriving at a mechanism
// that never asked for them end the exchange. No I/O; no state.
#include "sasl/mechanism.h"

#include "sasl/steps.h"

namespace poplar::sasl {

ServerStep ServerMechanism::on_scram_credentials(Result<ScramCredentials>) {
  return internal::failure(std::string(name()) + ": unexpected credentials");
}

}  // namespace poplar::sasl
