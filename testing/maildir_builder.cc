// Test-only Maildir builder; see maildir_builder.h.
//
// Must never: be linked into production code.
//
// Thread-safety: one builder per thread.
#include "testing/maildir_builder.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include "store/crlf_size.h"

namespace poplar::testing {
namespace {

// A fixture that cannot be built makes every assertion meaningless: stop loudly.
void check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "MaildirBuilder: %s\n", what.c_str());
    std::abort();
  }
}

}  // namespace

std::string MaildirNameGenerator::next() {
  time_ += step_s_;
  ++counter_;
  // Microseconds vary like a real clock's would; pid 4242 stands for one delivering process.
  uint64_t usec = (counter_ * 104729) % 1000000;
  return std::to_string(time_) + ".M" + std::to_string(usec) + "P4242Q" + std::to_string(counter_) +
         "." + host_;
}

MaildirBuilder::MaildirBuilder(std::filesystem::path maildir) : path_(std::move(maildir)) {
  for (const char* sub : {"cur", "new", "tmp"}) {
    std::error_code ec;
    std::filesystem::create_directories(path_ / sub, ec);
    check(!ec, "mkdir " + (path_ / sub).string() + ": " + ec.message());
  }
}

std::string MaildirBuilder::add(const Message& message) {
  std::string base = message.base_name.empty() ? names_.next() : message.base_name;
  if (message.size_fields) {
    base += ",S=" + std::to_string(message.bytes.size()) +
            ",W=" + std::to_string(store::crlf_size_octets(message.bytes));
  }
  std::string relative = message.in_cur ? "cur/" + base + ":2," + message.flags : "new/" + base;
  std::filesystem::path temp = path_ / "tmp" / base;
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(message.bytes.data(), static_cast<std::streamsize>(message.bytes.size()));
    out.close();
    check(out.good(), "write " + temp.string());
  }
  std::error_code ec;
  std::filesystem::rename(temp, path_ / relative, ec);
  check(!ec, "rename to " + relative + ": " + ec.message());
  return relative;
}

std::string MaildirBuilder::set_flags(const std::string& relative_path, std::string_view flags) {
  std::string name = relative_path.substr(relative_path.find('/') + 1);
  std::string base = name.substr(0, name.find(':'));
  std::string moved = "cur/" + base + ":2," + std::string(flags);
  std::error_code ec;
  std::filesystem::rename(path_ / relative_path, path_ / moved, ec);
  check(!ec, "rename " + relative_path + ": " + ec.message());
  return moved;
}

std::vector<std::string> MaildirBuilder::files() const {
  std::vector<std::string> out;
  for (const char* sub : {"new", "cur"}) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(path_ / sub, ec)) {
      out.push_back(std::string(sub) + "/" + entry.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void MaildirBuilder::backdate_directories(int64_t seconds) {
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  struct timespec times[2] = {now, now};
  times[0].tv_sec -= seconds;
  times[1].tv_sec -= seconds;
  for (const char* sub : {"new", "cur"}) {
    std::string dir = (path_ / sub).string();
    check(utimensat(AT_FDCWD, dir.c_str(), times, 0) == 0, "utimensat " + dir);
  }
}

}  // namespace poplar::testing
