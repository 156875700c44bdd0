// MdaWriter: delivery to a command (`--to mda:COMMAND`), the way fetchmail's and mpop's MDA
// delivery works: `/bin/sh -c COMMAND` is started for each message, the message goes to its
// standard input with LF line ends (what procmail, maildrop, dovecot-lda and `cat` expect), and
// its exit status decides: 0 = delivered; 75 (EX_TEMPFAIL, sysexits.h) = try again later
// (kTemporary); any other status or a signal = failed (kPermanent, with the status). The
// command's standard output and error are the fetch's own (a user sees what the MDA says).
//
// The message streams through a pipe as it arrives from the server, never held whole. Giving up
// on a message (destroying the writer without commit(), e.g. the connection broke in the middle
// of RETR) kills the command's process group BEFORE its input is closed, so it never sees an
// end of input and cannot take a truncated message for a complete one. (An MDA that writes as it
// reads, like `cat > file`, can still leave a partial file: that is the MDA's choice; real MDAs
// deliver only after reading everything.)
//
// Implements store::MessageWriter, so the fetch loop treats every target alike.
//
// Must never: pass the command to anything but /bin/sh -c; leave a child unreaped.
//
// Thread-safety: one writer per thread; each writer has its own child process.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/result.h"
#include "store/lf_line_ends.h"
#include "store/message_writer.h"

namespace poplar::fetch {

// Starts `/bin/sh -c command` with a pipe on its standard input.
// Errors: kTemporary (no processes, no descriptors), kInvalidInput (an empty command).
Result<store::MessageWriterPtr> begin_mda_delivery(const std::string& command);

class MdaWriter final : public store::MessageWriter {
 public:
  MdaWriter(std::string command, pid_t pid, int stdin_fd);
  ~MdaWriter() override;
  MdaWriter(const MdaWriter&) = delete;
  MdaWriter& operator=(const MdaWriter&) = delete;

  Status write(std::string_view wire_chunk) override;
  // Closes the command's input and waits for it to exit; returns "mda:<command>".
  Result<std::string> commit() override;
  uint64_t received_octets() const override { return converter_.input_octets(); }
  uint64_t stored_octets() const override { return converter_.output_octets(); }

 private:
  Status write_all(std::string_view data);
  // Waits for the child and turns its exit status into a Status.
  Status reap();
  void kill_and_reap();

  std::string command_;
  pid_t pid_;
  int stdin_fd_;
  store::CrlfToLf converter_;
  std::string buffer_;
  Status failed_;
  bool done_ = false;
};

}  // namespace poplar::fetch
