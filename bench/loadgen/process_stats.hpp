#pragma once

#include <cstdint>
#include <optional>
#include <sys/types.h>

namespace confab::bench {

// What /proc says about a process at one instant.
struct ProcessSample {
    double cpu_seconds = 0;       // utime + stime
    std::uint64_t rss_bytes = 0;  // VmRSS
};

// nullopt when the process is gone or /proc cannot be read.
std::optional<ProcessSample> sample_process(pid_t pid);

// CPU seconds of every child of `parent` (the PostgreSQL backends and helpers of a
// postmaster), plus the parent's own and that of its children that ended and were waited
// for (a backend that exits is counted still). Used as a difference over a window.
double cpu_seconds_of_tree(pid_t parent);

// CPU seconds this process has used (user + system).
double own_cpu_seconds();

// CPU seconds of this process's children (and theirs) that have ended and been waited for.
double waited_children_cpu_seconds();

}  // namespace confab::bench
