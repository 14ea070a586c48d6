#pragma once
/// DbProbe: whether the database answers, for /readyz, without ever blocking the HTTP thread.
/// A background thread runs `SELECT 1` every `interval` on its own connection, giving up after
/// `deadline` (the connection is then dropped and reopened); `problem()` only reads the last
/// outcome. A frozen server (SIGSTOP, hung storage) is reported once a probe has waited longer
/// than `deadline`, so within interval + deadline of the freeze. Thread-safe.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace ste {

struct DbProbeConfig {
  std::chrono::milliseconds interval{1000};  ///< between the end of one probe and the next
  std::chrono::milliseconds deadline{1500};  ///< a probe (connecting included) slower than this
                                             ///< means "not answering"
};

/// What the probe has seen (steady clock).
struct DbProbeState {
  using Time = std::chrono::steady_clock::time_point;
  bool ever_ok = false;
  Time last_ok{};
  bool in_flight = false;
  Time in_flight_since{};
  std::string last_error;  ///< empty when the last finished probe succeeded
};

/// Empty when the state says the database answers; otherwise the reason for /readyz. Pure.
std::string db_probe_verdict(const DbProbeState& state, DbProbeState::Time now,
                             const DbProbeConfig& config);

class DbProbe {
 public:
  DbProbe(std::string conninfo, DbProbeConfig config = {});
  ~DbProbe();
  DbProbe(const DbProbe&) = delete;
  DbProbe& operator=(const DbProbe&) = delete;

  void start();
  /// Stops and joins the thread (waits at most for the probe in flight: its deadline, or the
  /// 2-s connect timeout).
  void stop();
  /// Empty when the database answered recently; otherwise what is wrong.
  std::string problem() const;

 private:
  void run();
  std::string conninfo_;
  DbProbeConfig config_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  DbProbeState state_;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace ste
