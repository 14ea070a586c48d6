#include "common/process_metrics.hpp"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/metric_builders.hpp"

namespace ste {

namespace {
/// Seconds since the epoch at boot, from /proc/stat's btime.
double boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}
}  // namespace

bool parse_proc_stat(std::string_view line, ProcStat& out) {
  // The command (field 2) is in parentheses and may hold spaces and ')': start after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string_view::npos) return false;
  std::string_view rest = line.substr(close + 1);
  int field = 2;
  double values[25] = {};
  while (!rest.empty() && field < 24) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = rest.find(' ');
    const std::string_view token = rest.substr(0, end);
    ++field;
    if (field >= 14) {
      double v = 0;
      const auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
      if (ec != std::errc{} || p != token.data() + token.size()) return false;
      values[field] = v;
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  if (field < 24) return false;
  out.utime_ticks = values[14];
  out.stime_ticks = values[15];
  out.start_ticks = values[22];
  out.vsize_bytes = values[23];
  out.rss_pages = values[24];
  return true;
}

ProcessMetrics::ProcessMetrics(prometheus::Registry& registry)
    : cpu_(add_gauge(registry, "process_cpu_seconds_total",
                     "User and system CPU time spent, seconds")),
      resident_(
          add_gauge(registry, "process_resident_memory_bytes", "Resident memory size, bytes")),
      virtual_(add_gauge(registry, "process_virtual_memory_bytes", "Virtual memory size, bytes")),
      open_fds_(add_gauge(registry, "process_open_fds", "Open file descriptors")),
      start_time_(add_gauge(registry, "process_start_time_seconds",
                            "Start time of the process since the epoch, seconds")) {
  update();
}

void ProcessMetrics::update() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  ProcStat s;
  if (parse_proc_stat(line, s)) {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    cpu_.Set((s.utime_ticks + s.stime_ticks) / ticks);
    resident_.Set(s.rss_pages * page);
    virtual_.Set(s.vsize_bytes);
    static const double boot = boot_time();
    start_time_.Set(boot + s.start_ticks / ticks);
  }
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  open_fds_.Set(fds);
}

}  // namespace ste
