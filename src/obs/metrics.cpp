#include "confab/obs/metrics.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

namespace confab::obs {
namespace {

std::string escaped(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string label_text(const std::vector<std::string>& names, const std::vector<std::string>& values) {
    std::string text;
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        if (!text.empty()) text += ',';
        text += names[i] + "=\"" + escaped(values[i]) + '"';
    }
    return text;
}

std::string number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.9g", value);
    return buffer;
}

void write_sample(std::string& out, const std::string& name, const std::string& labels, const std::string& value) {
    out += name;
    if (!labels.empty()) out += '{' + labels + '}';
    out += ' ' + value + '\n';
}

void write_value(std::string& out, const std::string& name, const std::string& labels, const Counter& c) {
    write_sample(out, name, labels, std::to_string(c.value()));
}
void write_value(std::string& out, const std::string& name, const std::string& labels, const Gauge& g) {
    write_sample(out, name, labels, std::to_string(g.value()));
}
void write_value(std::string& out, const std::string& name, const std::string& labels, const Histogram& h) {
    h.write(out, name, labels);
}

// Resident memory and CPU time of this process, from /proc.
void write_process(std::string& out) {
    long pages_resident = 0, pages_total = 0;
    if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(statm, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
        std::fclose(statm);
    }
    std::ifstream stat("/proc/self/stat");
    std::string line;
    std::getline(stat, line);
    double cpu_seconds = 0;
    if (const auto close = line.rfind(')'); close != std::string::npos) {
        std::istringstream fields(line.substr(close + 2));
        std::string field;
        unsigned long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> field; ++i) {
            if (i == 14) utime = std::stoul(field);
            if (i == 15) stime = std::stoul(field);
        }
        cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    out +=
        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
        "# TYPE process_resident_memory_bytes gauge\n";
    write_sample(out, "process_resident_memory_bytes", "", std::to_string(pages_resident * ::sysconf(_SC_PAGESIZE)));
    out +=
        "# HELP process_cpu_seconds_total Total user and system CPU time in seconds.\n"
        "# TYPE process_cpu_seconds_total counter\n";
    write_sample(out, "process_cpu_seconds_total", "", number(cpu_seconds));
}

}  // namespace

void Histogram::observe(double seconds) noexcept {
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        if (seconds <= bounds[i]) {
            buckets_[i].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_nanoseconds_.fetch_add(static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e9), std::memory_order_relaxed);
}

void Histogram::write(std::string& out, const std::string& name, const std::string& labels) const {
    const std::string prefix = labels.empty() ? "" : labels + ",";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        write_sample(out, name + "_bucket", prefix + "le=\"" + number(bounds[i]) + '"', std::to_string(cumulative));
    }
    write_sample(out, name + "_bucket", prefix + "le=\"+Inf\"", std::to_string(count()));
    write_sample(out, name + "_sum", labels, number(static_cast<double>(sum_nanoseconds_.load()) / 1e9));
    write_sample(out, name + "_count", labels, std::to_string(count()));
}

template <class Metric>
Metric& Family<Metric>::with(std::initializer_list<std::string_view> label_values) {
    {
        std::shared_lock lock(mutex_);
        if (const auto found = series_.find(label_values); found != series_.end()) return *found->second;
    }
    std::unique_lock lock(mutex_);
    auto& slot = series_[std::vector<std::string>(label_values.begin(), label_values.end())];
    if (!slot) slot = std::make_unique<Metric>();
    return *slot;
}

template <class Metric>
void Family<Metric>::write(std::string& out) const {
    out += "# HELP " + name_ + ' ' + help_ + "\n# TYPE " + name_ + ' ' + Metric::type + '\n';
    std::shared_lock lock(mutex_);
    for (const auto& [values, metric] : series_) write_value(out, name_, label_text(label_names_, values), *metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

std::string Metrics::expose() const {
    std::string out;
    for (const auto* family : families_) family->write(out);
    write_process(out);
    return out;
}

Metrics& metrics() {
    static Metrics instance;
    return instance;
}

}  // namespace confab::obs
