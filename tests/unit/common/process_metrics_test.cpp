#include "common/process_metrics.hpp"

#include <prometheus/text_serializer.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <string>

using ste::parse_proc_stat;
using ste::ProcStat;

TEST_CASE("/proc/self/stat is read after the command, whatever the command holds", "[process]") {
  // A command with spaces and a ')' of its own; utime 1200, stime 300, start 5000, vsize, rss.
  const std::string line =
      "4242 (ste (x) y) S 1 4242 4242 0 -1 4194560 3177 0 0 0 1200 300 0 0 20 0 9 0 5000 "
      "123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";
  ProcStat s;
  REQUIRE(parse_proc_stat(line, s));
  CHECK(s.utime_ticks == 1200);
  CHECK(s.stime_ticks == 300);
  CHECK(s.start_ticks == 5000);
  CHECK(s.vsize_bytes == 123456789);
  CHECK(s.rss_pages == 2048);
}

TEST_CASE("a truncated or garbled stat line is refused", "[process]") {
  ProcStat s;
  CHECK_FALSE(parse_proc_stat("", s));
  CHECK_FALSE(parse_proc_stat("1 (x) S 1 2 3", s));
  CHECK_FALSE(parse_proc_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 300 0 0 20 0 9 0 5000 1 2", s));
}

TEST_CASE("this process's metrics are exported under the standard names", "[process]") {
  prometheus::Registry registry;
  ste::ProcessMetrics metrics(registry);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  const auto value = [&](const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    REQUIRE(at != std::string::npos);
    return std::stod(text.substr(at + name.size() + 2));
  };
  CHECK(value("process_cpu_seconds_total") >= 0);  // may round to 0 ticks in a short process
  CHECK(value("process_resident_memory_bytes") > 1e6);
  CHECK(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
  CHECK(value("process_open_fds") >= 3);  // stdin, stdout, stderr at least
  const double now = static_cast<double>(std::time(nullptr));
  CHECK(value("process_start_time_seconds") > now - 3600);  // started within the hour...
  CHECK(value("process_start_time_seconds") <= now + 1);    // ...and not in the future
}
