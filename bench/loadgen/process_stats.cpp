#include "process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace confab::bench {
namespace {

struct StatLine {
    pid_t parent = 0;
    double cpu_seconds = 0;
};

// /proc/PID/stat: "pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17) ...";
// comm may hold spaces and parentheses, so fields are counted from the last ')'. With
// `waited_children`, the CPU of its children that have ended and been waited for is added.
std::optional<StatLine> read_stat(pid_t pid, bool waited_children = false) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    const auto close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    StatLine stat;
    unsigned long ticks = 0;
    const int last = waited_children ? 17 : 15;
    for (int index = 3; index <= last && fields >> field; ++index) {  // index: the field's number in proc(5)
        if (index == 4) stat.parent = static_cast<pid_t>(std::atol(field.c_str()));
        if (index >= 14) ticks += std::stoul(field);
    }
    stat.cpu_seconds = static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
    return stat;
}

}  // namespace

std::optional<ProcessSample> sample_process(pid_t pid) {
    const auto stat = read_stat(pid);
    if (!stat) return std::nullopt;
    ProcessSample sample;
    sample.cpu_seconds = stat->cpu_seconds;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) {
            sample.rss_bytes = std::stoull(line.substr(6)) * 1024;  // reported in kB
            break;
        }
    }
    return sample;
}

double cpu_seconds_of_tree(pid_t parent) {
    double total = 0;
    if (const auto own = read_stat(parent, true)) total += own->cpu_seconds;
    DIR* proc = opendir("/proc");
    if (!proc) return total;
    while (const dirent* entry = readdir(proc)) {
        const pid_t pid = static_cast<pid_t>(std::atol(entry->d_name));
        if (pid <= 0) continue;
        if (const auto stat = read_stat(pid); stat && stat->parent == parent) total += stat->cpu_seconds;
    }
    closedir(proc);
    return total;
}

namespace {

double cpu_seconds_of(int who) {
    rusage usage{};
    getrusage(who, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

double own_cpu_seconds() { return cpu_seconds_of(RUSAGE_SELF); }

double waited_children_cpu_seconds() { return cpu_seconds_of(RUSAGE_CHILDREN); }

}  // namespace confab::bench
