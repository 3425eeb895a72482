// A caching CPU allocator for large tensor blocks, installed as libtorch's CPU allocator when the addon loads.
//
// Why: glibc's malloc gives a block of 128 KiB or more fresh pages from the kernel (mmap, or brk growth after
// a trim of the heap's top) depending on the heap's layout, and always above 32 MiB. An op whose temporaries
// are that large then page-faults through all of them on every call, and faults are slow on virtual machines:
// aten::stft of a 10 s clip (three 0.6-1.3 MB buffers) took 4.6-30 ms instead of 0.5 ms (PyTorch's own stft
// does the same in some heap states), and a paper-size opt-in training step spent a quarter of its time in
// the kernel (2 million faults a step). So freed blocks of >= 128 KiB are kept, by size class (a step of an
// eighth of the size's power of two, so at most 12.5% is wasted), and handed to the next request of the same
// class; smaller blocks go to libtorch's default allocator untouched. The cache holds at most
// EARMARK_CPU_CACHE_MB (default: a quarter of physical memory, at most 8 GiB); 0 leaves libtorch's allocator
// alone. emptyCpuCache() returns the cached blocks to the system. (Large blocks are not reported to libtorch's
// memory profiler: its reporting signature differs between 1.13 and 2.x.)
#include "cpu_allocator.h"
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace earmark {
namespace {

constexpr size_t kMinCached = 128 << 10;

struct Cache {
  std::mutex m;
  std::unordered_map<size_t, std::vector<void*>> free;  // class size → cached blocks
  std::unordered_map<void*, size_t> live;               // blocks handed out → class size
  size_t cachedBytes = 0;
  size_t limit = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may be freed during exit
  return *c;
}

size_t sizeClass(size_t n) {
  size_t high = size_t{1} << (63 - __builtin_clzll(n));  // largest power of two <= n
  size_t step = high >> 3;
  return (n + step - 1) / step * step;
}

c10::DeleterFnPtr fallbackRawDeleter = nullptr;

// Returns a block to the cache (or to the system when the cache is full). false: not one of ours.
bool releaseLarge(void* p) {
  Cache& c = cache();
  size_t size = 0;
  bool keep = false;
  {
    std::lock_guard<std::mutex> lock(c.m);
    auto it = c.live.find(p);
    if (it == c.live.end()) return false;
    size = it->second;
    c.live.erase(it);
    keep = c.cachedBytes + size <= c.limit;
    if (keep) {
      c.free[size].push_back(p);
      c.cachedBytes += size;
    }
  }
  if (!keep) c10::free_cpu(p);
  return true;
}

void releaseBlock(void* p) {
  if (!releaseLarge(p)) c10::free_cpu(p);  // cannot happen: this deleter is only attached to large blocks
}

// raw_deallocate() may be given a block of either size: small ones belong to the fallback allocator
void rawRelease(void* p) {
  if (!releaseLarge(p)) fallbackRawDeleter(p);
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  explicit CachingCpuAllocator(c10::Allocator* fallback) : fallback_(fallback) {}

  // libtorch 1.13 declares allocate() const, 2.3+ non-const: define both, each overrides where it exists
  c10::DataPtr allocate(size_t n) const {
    if (n < kMinCached) return fallback_->allocate(n);
    Cache& c = cache();
    size_t size = sizeClass(n);
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(c.m);
      auto it = c.free.find(size);
      if (it != c.free.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
        c.cachedBytes -= size;
        c.hits++;
      } else {
        c.misses++;
      }
    }
    if (p == nullptr) p = c10::alloc_cpu(size);  // throws c10::Error when out of memory
    {
      std::lock_guard<std::mutex> lock(c.m);
      c.live.emplace(p, size);
    }
    return {p, p, &releaseBlock, c10::Device(c10::kCPU)};
  }
  c10::DataPtr allocate(size_t n) { return static_cast<const CachingCpuAllocator*>(this)->allocate(n); }

  // Small blocks keep the fallback's own deleter (no lookup on the per-op path); raw_deallocate() of
  // either kind works through rawRelease. nullptr (raw API unsupported) where the fallback has none.
  c10::DeleterFnPtr raw_deleter() const override { return fallbackRawDeleter ? &rawRelease : nullptr; }

  // pure virtual in libtorch 2.3+ (Allocator::clone), absent in 1.13
  void copy_data(void* dest, const void* src, size_t count) const { std::memcpy(dest, src, count); }

 private:
  c10::Allocator* fallback_;
};

size_t defaultLimit() {
  const char* env = std::getenv("EARMARK_CPU_CACHE_MB");
  if (env != nullptr && *env != '\0') return static_cast<size_t>(std::strtoull(env, nullptr, 10)) << 20;
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGE_SIZE);
  size_t quarter = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 4 : size_t{1} << 30;
  return std::min(quarter, size_t{8} << 30);
}

std::once_flag installed;

}  // namespace

void installCpuAllocator() {
  std::call_once(installed, [] {
    cache().limit = defaultLimit();
    if (cache().limit == 0) return;
    c10::Allocator* fallback = c10::GetDefaultCPUAllocator();
    fallbackRawDeleter = fallback->raw_deleter();
    static auto* alloc = new CachingCpuAllocator(fallback);  // static lifetime, as c10 expects
    c10::SetCPUAllocator(alloc, /*priority=*/1);
  });
}

CpuCacheStats cpuCacheStats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.m);
  return {c.cachedBytes, c.limit, c.hits, c.misses, c.live.size()};
}

size_t emptyCpuCache() {
  Cache& c = cache();
  std::vector<void*> blocks;
  size_t freed = 0;
  {
    std::lock_guard<std::mutex> lock(c.m);
    for (auto& kv : c.free) blocks.insert(blocks.end(), kv.second.begin(), kv.second.end());
    c.free.clear();
    freed = c.cachedBytes;
    c.cachedBytes = 0;
  }
  for (void* p : blocks) c10::free_cpu(p);
  return freed;
}

}  // namespace earmark
