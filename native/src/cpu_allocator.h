// libtorch's CPU allocator with a cache of freed blocks (see cpu_allocator.cc for why).
#pragma once
#include <cstddef>
#include <cstdint>

namespace earmark {

struct CpuCacheStats {
  size_t cachedBytes;  // freed blocks held for reuse, small and large
  size_t limit;        // EARMARK_CPU_CACHE_MB; 0: the cache is off
  uint64_t hits;       // large (>= 128 KiB) allocations served from the cache
  uint64_t misses;     // large allocations that went to the system
  size_t liveBlocks;   // large blocks currently in tensors
};

// Installs the caching allocator once per process (the addon loads again in each worker thread).
void installCpuAllocator();
CpuCacheStats cpuCacheStats();
// Returns every cached block to the system; the bytes freed.
size_t emptyCpuCache();

}  // namespace earmark
