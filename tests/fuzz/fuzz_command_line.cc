// Fuzzes the parsers of a client's command line: pop3/command.h (the keyword and the RFC 1939 /
// 2449 argument grammars) and pop3/pop4_arguments.h (POP4 folder names, message sets, words and
// STOR's flag list). Input: the first octet chooses UTF8 (bit 0) and which sequence of POP4
// readers runs (bits 1-3); the rest is the line. Every line is untrusted peer input. Aborts when:
//  - a view in the parsed arguments points outside the line, or a message number is 0;
//  - a message range is empty, reversed or starts at 0;
//  - a folder name, formatted by quote_folder_name() and read back, is not the same name (the
//    client writes names the server reads);
//  - a reader fails without kInvalidInput, or succeeds and leaves the argument half read.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pop3/command.h"
#include "pop3/pop4_arguments.h"

namespace {

using poplar::ErrorCode;
using poplar::Status;
using poplar::pop3::Pop4Arguments;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_command_line: %s\n", what);
  std::abort();
}

bool inside(std::string_view part, std::string_view line) {
  if (part.empty()) {
    return true;
  }
  const auto begin = reinterpret_cast<uintptr_t>(line.data());
  const auto first = reinterpret_cast<uintptr_t>(part.data());
  return first >= begin && first + part.size() <= begin + line.size();
}

void check_command(std::string_view line) {
  poplar::pop3::ParsedCommand parsed = poplar::pop3::parse_command_line(line);
  if (!inside(parsed.args.first, line) || !inside(parsed.args.second, line) ||
      !inside(parsed.args.section, line)) {
    fail("an argument view outside the line");
  }
  if (parsed.args.message && parsed.args.message->value == 0) {
    fail("message number 0 accepted");
  }
}

void check_refusal(const Status& status) {
  if (status.code() != ErrorCode::kInvalidInput) {
    fail("a refusal that is not kInvalidInput");
  }
}

void check_folder_round_trip(const std::string& name, bool utf8) {
  const std::string quoted = poplar::pop3::quote_folder_name(name);
  Pop4Arguments again(quoted, utf8);  // read back under the same UTF8 state it was read in
  auto back = again.folder();
  if (!back.is_ok() || *back != name || !again.at_end()) {
    fail("a folder name does not survive quote_folder_name and folder()");
  }
}

// Runs one reader; false when it refused (then the sequence stops, as the session's does).
bool read_one(Pop4Arguments& args, int which, bool utf8) {
  switch (which) {
    case 0: {
      auto folder = args.folder();
      if (!folder.is_ok()) {
        check_refusal(folder.status());
        return false;
      }
      check_folder_round_trip(*folder, utf8);
      return true;
    }
    case 1: {
      auto set = args.message_set();
      if (!set.is_ok()) {
        check_refusal(set.status());
        return false;
      }
      if (set->ranges.empty()) {
        fail("an empty message set accepted");
      }
      for (const auto& range : set->ranges) {
        if (range.first.value == 0 || range.first.value > range.last.value) {
          fail("a reversed or zero message range accepted");
        }
      }
      return true;
    }
    case 2: {
      auto word = args.word();
      if (!word.is_ok()) {
        check_refusal(word.status());
        return false;
      }
      if (word->empty() || word->find(' ') != std::string_view::npos) {
        fail("a word that is empty or holds a space");
      }
      return true;
    }
    default: {
      auto flags = args.flag_list();
      if (!flags.is_ok()) {
        check_refusal(flags.status());
        return false;
      }
      return true;
    }
  }
}

// The argument sequences of the POP4 commands: SFLD/CFLD/DFLD (folder), RENF/MOVF (folder
// folder), COPY/MOVE (set folder), FLAG (set word...), STOR (folder flags), and mixtures.
constexpr int kSequences[8][4] = {
    {0, -1, -1, -1}, {0, 0, -1, -1},  {1, 0, -1, -1}, {1, 2, 2, 2},
    {0, 3, -1, -1},  {1, -1, -1, -1}, {2, 1, 0, 3},   {3, -1, -1, -1},
};

void check_pop4(std::string_view text, bool utf8, int sequence) {
  Pop4Arguments args(text, utf8);
  for (int which : kSequences[sequence]) {
    if (which < 0 || !read_one(args, which, utf8)) {
      break;
    }
  }
  Status finished = args.finish();
  if (!finished.is_ok()) {
    check_refusal(finished);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const bool utf8 = (data[0] & 1) != 0;
  const int sequence = (data[0] >> 1) & 7;
  std::string_view line(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_command(line);
  check_pop4(line, utf8, sequence);
  return 0;
}
