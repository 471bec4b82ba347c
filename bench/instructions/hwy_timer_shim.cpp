// Preloaded into the server under valgrind only (bench/instructions/measure.py). libhwy (via
// libvips and libjxl) measures its timer's resolution in a static initializer with RDTSCP,
// which this VM's CPU does not advertise, so valgrind refuses the instruction (SIGILL) and the
// server dies before main. The initializer calls this function through the PLT, so this
// definition replaces it; the value only feeds Highway's own benchmarks, never the server.
#include <cstdint>

namespace hwy::platform {
__attribute__((visibility("default"))) std::uint64_t TimerResolution() { return 1; }
}  // namespace hwy::platform
