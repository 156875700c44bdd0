#include "server/process_limits.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace poplar::server {
namespace {

TEST(ProcessLimitsTest, RaisesTheSoftLimitAndNeverLowersIt) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  // A small request never lowers what is there.
  EXPECT_GE(raise_open_file_limit(1), before.rlim_cur);
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_cur);
  // A request within the hard limit is granted.
  if (before.rlim_max != RLIM_INFINITY && before.rlim_max > kDescriptorsReserve + 10) {
    uint64_t sessions = (before.rlim_max - kDescriptorsReserve) / kDescriptorsPerSession;
    uint64_t got = raise_open_file_limit(sessions);
    EXPECT_GE(got, sessions * kDescriptorsPerSession + kDescriptorsReserve);
  }
}

}  // namespace
}  // namespace poplar::server
