// The backends the conformance suite runs against, each behind one small test-side interface:
// a store, fresh locations, delivery of a message, and the two things only a test does
// (removing a message behind the store's back, losing every rebuildable cache).
//
// Must never: reach into a backend's internals beyond what an outside program could do to its
// storage (write files, delete files).
//
// Thread-safety: one backend object per test, used by one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "store/maildir/maildir_store.h"
#include "store/memory/memory_store.h"
#include "testing/maildir_builder.h"
#include "testing/temp_dir.h"

namespace poplar::conformance {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual store::MailStore& store() = 0;
  // A location no session has used yet.
  virtual std::string new_location() = 0;
  // Delivers a message as an MDA would; sessions already open must not see it.
  virtual void deliver(const std::string& location, std::string_view bytes) = 0;
  // Another program deletes the message with this UIDL.
  virtual void remove_behind_the_back(const std::string& location, const std::string& uidl) = 0;
  // Deletes every cache the backend can rebuild (Maildir: poplar-index). UIDLs and sizes must
  // come out the same.
  virtual void lose_caches(const std::string& location) = 0;
};

// Maildir with names as Postfix or procmail write them: no size field, so sizes come from
// reading the file once, then from Poplar's index.
class MaildirBackend : public Backend {
 public:
  MaildirBackend() : store_(store::fs::posix_file_system()) {}
  store::MailStore& store() override { return store_; }
  std::string new_location() override;
  void deliver(const std::string& location, std::string_view bytes) override;
  void remove_behind_the_back(const std::string& location, const std::string& uidl) override;
  void lose_caches(const std::string& location) override;

 protected:
  virtual bool size_fields() const { return false; }

 private:
  testing::MaildirBuilder& builder(const std::string& location);

  testing::TempDir dir_;
  store::maildir::MaildirStore store_;
  std::vector<std::unique_ptr<testing::MaildirBuilder>> builders_;
  int locations_ = 0;
};

// Maildir with Dovecot-style names carrying ",S=<octets>,W=<CRLF octets>".
class MaildirSizedNamesBackend : public MaildirBackend {
 protected:
  bool size_fields() const override { return true; }
};

class MemoryBackend : public Backend {
 public:
  store::MailStore& store() override { return store_; }
  std::string new_location() override { return "user" + std::to_string(++locations_); }
  void deliver(const std::string& location, std::string_view bytes) override {
    store_.add_message(location, std::string(bytes));
  }
  void remove_behind_the_back(const std::string& location, const std::string& uidl) override {
    store_.remove_message_for_test(location, uidl);
  }
  void lose_caches(const std::string&) override {}  // nothing is cached

 private:
  store::memory::MemoryStore store_;
  int locations_ = 0;
};

// Every backend the typed suites run against; a new backend joins by adding one type here.
using AllBackends = ::testing::Types<MaildirBackend, MaildirSizedNamesBackend, MemoryBackend>;

// Readable test names: Store/StoreConformanceTest/Maildir.CommitIsIdempotent.
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {  // NOLINT: the name GoogleTest looks for
    if constexpr (std::is_same_v<T, MaildirBackend>) {
      return "Maildir";
    } else if constexpr (std::is_same_v<T, MaildirSizedNamesBackend>) {
      return "MaildirSizedNames";
    } else {
      return "Memory";
    }
  }
};

}  // namespace poplar::conformance
