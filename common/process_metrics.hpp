#pragma once
/// The standard process metrics Prometheus clients export (prometheus-cpp has none): CPU time,
/// resident and virtual memory, open file descriptors and start time, with the names Prometheus'
/// own clients use (`process_cpu_seconds_total`, `process_resident_memory_bytes`, ...), so the
/// dashboard's per-instance CPU and memory panels and any existing Prometheus rules work as-is.
/// Read from /proc/self on every scrape (update()), nothing in between.
///
/// Thread-safety: update() may be called from any thread (gauges are atomic); ServiceHttp calls it
/// before serializing /metrics.
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string_view>

namespace ste {

/// Values parsed from /proc/self/stat (the text after the command's closing parenthesis is what
/// `after_comm` holds) — pure, for tests. Fields are 1-based as in proc(5): utime = 14, stime = 15,
/// starttime = 22, vsize = 23, rss = 24 (pages).
struct ProcStat {
  double utime_ticks = 0;
  double stime_ticks = 0;
  double start_ticks = 0;
  double vsize_bytes = 0;
  double rss_pages = 0;
};
bool parse_proc_stat(std::string_view stat_line, ProcStat& out);

class ProcessMetrics {
 public:
  explicit ProcessMetrics(prometheus::Registry& registry);
  void update();

 private:
  prometheus::Gauge& cpu_;  // a counter in meaning; a gauge is the only settable kind
  prometheus::Gauge& resident_;
  prometheus::Gauge& virtual_;
  prometheus::Gauge& open_fds_;
  prometheus::Gauge& start_time_;
};

}  // namespace ste
