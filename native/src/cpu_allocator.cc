// A caching CPU allocator, installed as libtorch's CPU allocator when the addon loads.
//
// Why, large blocks: glibc's malloc gives a block of 128 KiB or more fresh pages from the kernel (mmap, or brk
// growth after a trim of the heap's top) depending on the heap's layout, and always above 32 MiB. An op whose
// temporaries are that large then page-faults through all of them on every call, and faults are slow on
// virtual machines: aten::stft of a 10 s clip (three 0.6-1.3 MB buffers) took 4.6-30 ms instead of 0.5 ms
// (PyTorch's own stft does the same in some heap states), and a paper-size opt-in training step spent a
// quarter of its time in the kernel (2 million faults a step). Why, small blocks: libtorch asks for every
// tensor's data with 64-byte alignment, and glibc's posix_memalign splits and re-merges chunks to give it
// (with the consolidations it triggers, a fifth of a 1-element add's time).
//
// So every block carries a 64-byte header (its class; data stays 64-byte aligned), and freed blocks are kept
// per class and handed to the next request of that class: blocks up to 4 KiB in 64-byte classes, blocks of
// 128 KiB and more in classes an eighth of their power of two apart (at most 12.5% unused); sizes in between
// go to the system each time. The cache holds at most EARMARK_CPU_CACHE_MB (default: a
// quarter of physical memory, at most 8 GiB); 0 leaves libtorch's allocator alone. emptyCpuCache() returns
// the cached blocks to the system. (Blocks are not reported to libtorch's memory profiler: its reporting
// signature differs between 1.13 and 2.x.)
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

constexpr size_t kHeader = 64;  // c10's alignment, so data = block + kHeader keeps it
constexpr size_t kSmallMax = 4096;
constexpr size_t kSmallStep = 64;
constexpr size_t kLargeMin = 128 << 10;
constexpr uint64_t kMagic = 0x65726d61726b4d42ULL;  // "earmarkMB"-ish: checked on every release

struct Header {
  uint64_t magic;
  uint64_t cls;  // bytes of data the block holds; 0: not cached (returned to the system when freed)
};
static_assert(sizeof(Header) <= kHeader, "header fits");

struct Cache {
  std::mutex m;
  std::vector<void*> small[kSmallMax / kSmallStep + 1];       // by cls / kSmallStep
  std::unordered_map<size_t, std::vector<void*>> large;       // by cls
  size_t cachedBytes = 0;
  size_t limit = 0;
  uint64_t hits = 0;    // large blocks only (the stats are for tests and tuning)
  uint64_t misses = 0;
  size_t liveLarge = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may be freed during exit
  return *c;
}

size_t largeClass(size_t n) {
  size_t high = size_t{1} << (63 - __builtin_clzll(n));  // largest power of two <= n
  size_t step = high >> 3;
  return (n + step - 1) / step * step;
}

Header* headerOf(void* data) { return reinterpret_cast<Header*>(static_cast<char*>(data) - kHeader); }

std::vector<void*>* freeList(Cache& c, size_t cls) {  // with c.m held
  if (cls == 0) return nullptr;
  if (cls <= kSmallMax) return &c.small[cls / kSmallStep];
  return &c.large[cls];
}

void releaseBlock(void* data) {
  if (data == nullptr) return;
  Header* h = headerOf(data);
  if (h->magic != kMagic) std::abort();  // not one of ours: a bug elsewhere; never free what we do not own
  size_t cls = h->cls;
  bool kept = false;
  if (cls != 0) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.m);
    if (cls >= kLargeMin) c.liveLarge--;
    if (c.cachedBytes + cls <= c.limit) {
      freeList(c, cls)->push_back(h);
      c.cachedBytes += cls;
      kept = true;
    }
  }
  if (!kept) c10::free_cpu(h);
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  // libtorch 1.13 declares allocate() const, 2.3+ non-const: define both, each overrides where it exists
  c10::DataPtr allocate(size_t n) const {
    if (n == 0) return {nullptr, nullptr, &releaseBlock, c10::Device(c10::kCPU)};
    size_t cls = n <= kSmallMax ? (n + kSmallStep - 1) / kSmallStep * kSmallStep : n >= kLargeMin ? largeClass(n) : 0;
    void* block = nullptr;
    if (cls != 0) {
      Cache& c = cache();
      std::lock_guard<std::mutex> lock(c.m);
      std::vector<void*>* list = freeList(c, cls);
      bool hit = !list->empty();
      if (hit) {
        block = list->back();
        list->pop_back();
        c.cachedBytes -= cls;
      }
      if (cls >= kLargeMin) {
        c.liveLarge++;
        (hit ? c.hits : c.misses)++;
      }
    }
    if (block == nullptr) {
      block = c10::alloc_cpu(kHeader + (cls != 0 ? cls : n));  // 64-byte aligned; throws when out of memory
      *static_cast<Header*>(block) = {kMagic, cls};
    }
    void* data = static_cast<char*>(block) + kHeader;
    return {data, data, &releaseBlock, c10::Device(c10::kCPU)};
  }
  c10::DataPtr allocate(size_t n) { return static_cast<const CachingCpuAllocator*>(this)->allocate(n); }

  c10::DeleterFnPtr raw_deleter() const override { return &releaseBlock; }

  // pure virtual in libtorch 2.3+ (Allocator::clone), absent in 1.13
  void copy_data(void* dest, const void* src, size_t count) const { std::memcpy(dest, src, count); }
};

size_t defaultLimit() {
  const char* env = std::getenv("EARMARK_CPU_CACHE_MB");
  if (env != nullptr && *env != '\0') return static_cast<size_t>(std::strtoull(env, nullptr, 10)) << 20;
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGE_SIZE);
  size_t quarter = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 4 : size_t{1} << 30;
  return std::min(quarter, size_t{8} << 30);
}

// Memory that is not a tensor's (V8's ArrayBuffers: data() copies, audio buffers) still comes from glibc,
// which serves blocks over its mmap threshold (128 KiB at start) with fresh pages and raises the threshold
// to the size of the largest such block freed, up to 32 MiB. Taking large tensor blocks away from glibc
// means it may not see such a free for a long time, so toFloat32Array() of a 10 s spectrogram page-faulted
// through 644 KB on every call (2.4 ms). One mmapped block freed at load raises the threshold now, exactly
// as the first large free of any long-running program does. EARMARK_MALLOC=system skips it.
void primeMallocThreshold() {
#if defined(__GLIBC__)
  const char* mode = std::getenv("EARMARK_MALLOC");
  if (mode != nullptr && std::strcmp(mode, "system") == 0) return;
  static void* (*volatile allocate)(size_t) = std::malloc;  // volatile: the pair must not be elided
  static void (*volatile release)(void*) = std::free;
  release(allocate((size_t{32} << 20) - (size_t{64} << 10)));  // never touched: costs no page
#endif
}

std::once_flag installed;

}  // namespace

void installCpuAllocator() {
  std::call_once(installed, [] {
    primeMallocThreshold();
    cache().limit = defaultLimit();
    if (cache().limit == 0) return;
    static auto* alloc = new CachingCpuAllocator();  // static lifetime, as c10 expects
    c10::SetCPUAllocator(alloc, /*priority=*/1);
  });
}

CpuCacheStats cpuCacheStats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.m);
  return {c.cachedBytes, c.limit, c.hits, c.misses, c.liveLarge};
}

size_t emptyCpuCache() {
  Cache& c = cache();
  std::vector<void*> blocks;
  size_t freed = 0;
  {
    std::lock_guard<std::mutex> lock(c.m);
    for (auto& list : c.small) {
      blocks.insert(blocks.end(), list.begin(), list.end());
      list.clear();
    }
    for (auto& kv : c.large) blocks.insert(blocks.end(), kv.second.begin(), kv.second.end());
    c.large.clear();
    freed = c.cachedBytes;
    c.cachedBytes = 0;
  }
  for (void* p : blocks) c10::free_cpu(p);
  return freed;
}

}  // namespace earmark
