// Replays every tests/transcripts/**/*.txt against ServerSession, whole and trickled, and
// checks the runner itself notices differences. Reads files only through testing/transcript.
#include <gtest/gtest.h>

#include <string>

#include "testing/transcript.h"

namespace poplar::pop3 {
namespace {

using testing::FeedMode;

const std::string kDir = POPLAR_TRANSCRIPT_DIR;

class TranscriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TranscriptTest, ReplaysWholeAndTrickledIdentically) {
  const std::string path = kDir + "/" + GetParam();
  auto whole = testing::run_transcript_file(path, FeedMode::kWhole);
  EXPECT_TRUE(whole.ok) << "whole: " << whole.failure;
  auto trickled = testing::run_transcript_file(path, FeedMode::kTrickle);
  EXPECT_TRUE(trickled.ok) << "trickled: " << trickled.failure;
  EXPECT_EQ(whole.output, trickled.output);
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) {
    name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, TranscriptTest,
                         ::testing::ValuesIn(testing::list_transcripts(kDir)), test_name);

TEST(TranscriptRunnerTest, FindsTheTranscripts) {
  EXPECT_GE(testing::list_transcripts(kDir).size(), 30u);
}

TEST(TranscriptRunnerTest, ReportsADifference) {
  auto outcome = testing::run_transcript_text(
      "S: +OK localhost Poplar POP3 server ready\nC: NOOP\nS: +OK something else\n", "inline",
      FeedMode::kWhole);
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.failure.find("inline:3"), std::string::npos) << outcome.failure;
}

TEST(TranscriptRunnerTest, ReportsMissingOutput) {
  auto outcome = testing::run_transcript_text(
      "S: +OK localhost Poplar POP3 server ready\nC: QUIT\nS: +OK Bye.\nS: +OK more\n", "inline",
      FeedMode::kWhole);
  EXPECT_FALSE(outcome.ok);
}

TEST(TranscriptRunnerTest, ReportsUnexpectedOutput) {
  auto outcome = testing::run_transcript_text("C: QUIT\nS: +OK Bye.\n", "inline", FeedMode::kWhole);
  EXPECT_FALSE(outcome.ok);  // the greeting was not expected
}

}  // namespace
}  // namespace poplar::pop3
