#include "base/secret.h"

#include <cstring>

namespace poplar {

void secure_wipe(void* p, size_t n) {
  // explicit_bzero is in glibc ≥ 2.25 and is not optimised away.
  explicit_bzero(p, n);
}

}  // namespace poplar
