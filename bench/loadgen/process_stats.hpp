#pragma once

#include <cstdint>
#include <optional>
#include <sys/types.h>

namespace confab::bench {

// What /proc says about a process at one instant.
struct ProcessSample {
    double cpu_seconds = 0;        // utime + stime
    std::uint64_t rss_bytes = 0;   // VmRSS
};

// nullopt when the process is gone or /proc cannot be read.
std::optional<ProcessSample> sample_process(pid_t pid);

// CPU seconds of every child of `parent` (the PostgreSQL backends and helpers of a
// postmaster), plus the parent's own; the children come and go, so this only grows while
// a backend lives. Used as a difference over a window in which backends persist.
double cpu_seconds_of_tree(pid_t parent);

// CPU seconds this process has used (user + system).
double own_cpu_seconds();

}  // namespace confab::bench
