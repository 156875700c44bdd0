// Counting replacements of the global operator new and delete; see heap_counter.h.
//
// Must never: allocate itself (it is called from inside operator new).
//
// Thread-safety: relaxed atomics; counts are exact once threads are joined.
#include "heap_counter.h"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace poplar::microbench {
namespace {

std::atomic<int64_t> g_bytes{0};
std::atomic<int64_t> g_blocks{0};

void* counted_alloc(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p != nullptr) {
    g_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
    g_blocks.fetch_add(1, std::memory_order_relaxed);
  }
  return p;
}

void counted_free(void* p) noexcept {
  if (p == nullptr) {
    return;
  }
  g_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  g_blocks.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}

}  // namespace

HeapUsage heap_usage() {
  return HeapUsage{g_bytes.load(std::memory_order_relaxed),
                   g_blocks.load(std::memory_order_relaxed)};
}

}  // namespace poplar::microbench

void* operator new(std::size_t size) {
  void* p = poplar::microbench::counted_alloc(size);
  if (p == nullptr) {
    throw std::bad_alloc();
  }
  return p;
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return poplar::microbench::counted_alloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return poplar::microbench::counted_alloc(size);
}
void operator delete(void* p) noexcept { poplar::microbench::counted_free(p); }
void operator delete[](void* p) noexcept { poplar::microbench::counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { poplar::microbench::counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { poplar::microbench::counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept {
  poplar::microbench::counted_free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  poplar::microbench::counted_free(p);
}
