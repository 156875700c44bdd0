// Micro-benchmarks of opening a Maildir maildrop (issue 4): a warm open (index present, nothing
// changed) of 1,000 and 100,000 messages, a cold open (no index: every message is read once to
// count its CRLF size) of 10,000 and 100,000, the parse of a 100,000-entry index, listing the
// directories alone, and the heap an open maildrop keeps.
//
// Messages are ~2 KB with LF line ends and names without ",W=" (as Postfix or procmail write
// them), a quarter of them in cur/ with flags. Each corpus is built once per run in a
// temporary directory (100,000 messages take a few seconds and ~250 MB) and removed at exit.
// Timings assume the page cache is warm, as it is for a mailbox in daily use. Warm opens wait
// until the corpus's directories count as settled, so they measure the trusted-index path.
//
// Must never: run in `make test` (tests/microbench is built only with POPLAR_BUILD_MICROBENCH).
// Single-threaded.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "heap_counter.h"
#include "store/fs/file_system.h"
#include "store/fs/file_system_wrapper.h"
#include "store/maildir/index_file.h"
#include "store/maildir/maildir_store.h"
#include "testing/maildir_builder.h"
#include "testing/temp_dir.h"

namespace poplar::microbench {
namespace {

namespace stdfs = std::filesystem;

// ~2 KB of header and body lines, different per message.
std::string message_text(size_t n) {
  std::string text = "Return-Path: <sender" + std::to_string(n) + "@example.org>\n";
  text += "From: Sender <sender" + std::to_string(n) + "@example.org>\n";
  text += "To: user@example.net\nSubject: message number " + std::to_string(n) + "\n\n";
  while (text.size() < 2000) {
    text += "Lorem ipsum dolor sit amet, consectetur adipiscing elit, line ";
    text += std::to_string(text.size());
    text += "\n";
  }
  return text;
}

// With POPLAR_MICROBENCH_DIR set, corpora are kept there (maildir-<count>) and reused by later
// runs, which saves minutes when profiling; otherwise they live in a temporary directory.
class Corpus {
 public:
  explicit Corpus(size_t count) {
    const char* keep = std::getenv("POPLAR_MICROBENCH_DIR");
    stdfs::path root = keep != nullptr ? stdfs::path(keep) : temp_.path();
    path_ = root / ("maildir-" + std::to_string(count));
    stdfs::path done = root / ("maildir-" + std::to_string(count) + ".done");
    if (keep != nullptr && stdfs::exists(done)) {
      return;
    }
    stdfs::remove_all(path_);
    testing::MaildirBuilder builder(path_);
    for (size_t i = 0; i < count; ++i) {
      bool in_cur = i % 4 == 3;  // a quarter was seen by an IMAP client
      builder.add({.bytes = message_text(i), .in_cur = in_cur, .flags = in_cur ? "S" : ""});
    }
    std::ofstream(done).put('\n');
    // A directory changed less than kSettledNs before it is listed is listed again at the next
    // login (index_file.h); wait, so that warm opens measure the trusted index.
    std::this_thread::sleep_for(std::chrono::nanoseconds(store::maildir::kSettledNs) +
                                std::chrono::milliseconds(500));
  }
  std::string location() const { return path_.string(); }
  stdfs::path index_path() const { return path_ / std::string(store::maildir::kIndexFileName); }
  void drop_index() const { stdfs::remove(index_path()); }

 private:
  testing::TempDir temp_;
  stdfs::path path_;
};

// One corpus per size, built on first use and shared by the benchmarks.
Corpus& corpus(size_t count) {
  static std::map<size_t, std::unique_ptr<Corpus>> corpora;
  std::unique_ptr<Corpus>& slot = corpora[count];
  if (!slot) {
    slot = std::make_unique<Corpus>(count);
  }
  return *slot;
}

store::MaildropPtr open_or_die(store::MailStore& store, const std::string& location) {
  Result<store::MaildropPtr> drop = store.open_maildrop(location);
  if (!drop.is_ok()) {
    std::fprintf(stderr, "open failed: %s\n", drop.status().to_string().c_str());
    std::abort();
  }
  return std::move(drop).value();
}

void BM_MaildirOpenWarm(benchmark::State& state) {
  Corpus& c = corpus(static_cast<size_t>(state.range(0)));
  store::maildir::MaildirStore store(store::fs::posix_file_system());
  open_or_die(store, c.location());  // writes the index
  for (auto _ : state) {
    store::MaildropPtr drop = open_or_die(store, c.location());
    benchmark::DoNotOptimize(drop->messages().data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MaildirOpenWarm)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

// A store clock stuck one second after 1970: every directory looks changed after its listing,
// so no listing is ever settled and every open lists (as the login right after a delivery
// does), with an index that has every size.
class ClockBehind final : public store::fs::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  int64_t now_ns() override { return 1'000'000'000; }
};

// Counts what read_file() mapped outside the heap (the index of a big maildrop is kept on
// huge pages for the session), which the operator new counter cannot see.
class MappedBytesCounter final : public store::fs::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Result<store::fs::FileContents> read_file(const std::string& path, uint64_t max_bytes) override {
    Result<store::fs::FileContents> file = FileSystemWrapper::read_file(path, max_bytes);
    last_mapped_octets = file.is_ok() ? file->mapped_octets() : 0;
    return file;
  }
  size_t last_mapped_octets = 0;
};

void BM_MaildirOpenListed(benchmark::State& state) {
  Corpus& c = corpus(static_cast<size_t>(state.range(0)));
  ClockBehind behind(store::fs::posix_file_system());
  store::maildir::MaildirStore store(behind);
  c.drop_index();
  open_or_die(store, c.location());  // writes an index whose stamps are not settled
  for (auto _ : state) {
    store::MaildropPtr drop = open_or_die(store, c.location());
    benchmark::DoNotOptimize(drop->messages().data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MaildirOpenListed)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_MaildirOpenCold(benchmark::State& state) {
  Corpus& c = corpus(static_cast<size_t>(state.range(0)));
  store::maildir::MaildirStore store(store::fs::posix_file_system());
  open_or_die(store, c.location());  // the first read brings every file into the page cache
  for (auto _ : state) {
    state.PauseTiming();
    c.drop_index();
    state.ResumeTiming();
    store::MaildropPtr drop = open_or_die(store, c.location());
    benchmark::DoNotOptimize(drop->messages().data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MaildirOpenCold)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MaildirOpenCold)->Arg(100000)->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_MaildirIndexParse(benchmark::State& state) {
  Corpus& c = corpus(static_cast<size_t>(state.range(0)));
  store::maildir::MaildirStore store(store::fs::posix_file_system());
  open_or_die(store, c.location());
  std::ifstream in(c.index_path(), std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (auto _ : state) {
    state.PauseTiming();
    store::fs::FileContents copy = store::fs::FileContents::copy_of(text);  // parsed in place
    state.ResumeTiming();
    Result<store::maildir::IndexContents> parsed =
        store::maildir::IndexContents::parse(std::move(copy));
    if (!parsed.is_ok() || parsed->size() == 0) {
      state.SkipWithError("index did not parse");
      return;
    }
    benchmark::DoNotOptimize(parsed->entries().data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.counters["index_bytes"] = static_cast<double>(text.size());
}
BENCHMARK(BM_MaildirIndexParse)->Arg(100000)->Unit(benchmark::kMillisecond);

// The parse as a trusted login does it: check (header, checksum, stamps), then every line
// into a sink that keeps nothing, so no entry table is built.
void BM_MaildirIndexCheckAndScan(benchmark::State& state) {
  class CountingSink final : public store::maildir::IndexEntrySink {
   public:
    void add(const store::maildir::IndexEntry& entry) override { octets += entry.size_octets; }
    uint64_t octets = 0;
  };
  Corpus& c = corpus(static_cast<size_t>(state.range(0)));
  store::maildir::MaildirStore store(store::fs::posix_file_system());
  open_or_die(store, c.location());
  std::ifstream in(c.index_path(), std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (auto _ : state) {
    state.PauseTiming();
    store::fs::FileContents copy = store::fs::FileContents::copy_of(text);
    state.ResumeTiming();
    Result<store::maildir::IndexFile> file = store::maildir::IndexFile::check(std::move(copy));
    CountingSink sink;
    if (!file.is_ok() || !file->parse_entries(sink).is_ok()) {
      state.SkipWithError("index did not parse");
      return;
    }
    benchmark::DoNotOptimize(sink.octets);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_MaildirIndexCheckAndScan)->Arg(100000)->Unit(benchmark::kMillisecond);

// readdir of new/ and cur/ alone: what a warm open costs when it has to list.
void BM_MaildirListDirectories(benchmark::State& state) {
  Corpus& c = corpus(static_cast<size_t>(state.range(0)));
  store::fs::FileSystem& fs = store::fs::posix_file_system();
  store::fs::DirectoryListing listing;
  for (auto _ : state) {
    for (const char* sub : {"/new", "/cur"}) {
      Status status = fs.list_directory(c.location() + sub, &listing);
      benchmark::DoNotOptimize(status.is_ok());
    }
  }
}
BENCHMARK(BM_MaildirListDirectories)->Arg(100000)->Unit(benchmark::kMillisecond);

// The memory an open maildrop holds for the whole session (its snapshot, names and lock: heap
// blocks, plus the index's bytes when they were mapped on huge pages): warm (the index is the
// snapshot), or listed (as after a delivery: here the store's clock makes every directory look
// just changed).
void BM_MaildropHeapBytes(benchmark::State& state) {
  Corpus& c = corpus(static_cast<size_t>(state.range(0)));
  MappedBytesCounter counter(store::fs::posix_file_system());
  ClockBehind behind(counter);
  const bool listed = state.range(1) != 0;
  if (listed) {
    c.drop_index();  // the index written next records stamps that are not settled
  }
  store::maildir::MaildirStore store(listed ? static_cast<store::fs::FileSystem&>(behind)
                                            : static_cast<store::fs::FileSystem&>(counter));
  open_or_die(store, c.location());
  HeapUsage held;
  size_t mapped = 0;
  for (auto _ : state) {
    HeapUsage before = heap_usage();
    store::MaildropPtr drop = open_or_die(store, c.location());
    HeapUsage after = heap_usage();
    held = HeapUsage{after.bytes - before.bytes, after.blocks - before.blocks};
    // Only the trusted path keeps the index's bytes; a listing keeps the listed names.
    mapped = listed ? 0 : counter.last_mapped_octets;
    benchmark::DoNotOptimize(drop->messages().data());
  }
  const double total = static_cast<double>(held.bytes) + static_cast<double>(mapped);
  state.counters["bytes"] = total;
  state.counters["heap_blocks"] = static_cast<double>(held.blocks);
  state.counters["mapped"] = static_cast<double>(mapped);
  state.counters["bytes_per_msg"] = total / static_cast<double>(state.range(0));
}
BENCHMARK(BM_MaildropHeapBytes)
    ->ArgNames({"messages", "listed"})
    ->ArgsProduct({{5, 200, 100000}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace poplar::microbench
