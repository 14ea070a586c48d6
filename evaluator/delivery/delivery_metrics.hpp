#pragma once
/// Delivery metrics (prometheus-cpp, thread-safe).
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace ste::eval {

class DeliveryMetrics {
 public:
  explicit DeliveryMetrics(prometheus::Registry& registry);
  /// `outcome`: delivered | retry | failed.
  void attempt(const std::string& target, const std::string& outcome, double seconds);

  prometheus::Gauge& pending;
  prometheus::Gauge& oldest_pending_seconds;

 private:
  prometheus::Family<prometheus::Counter>& attempts_;
  prometheus::Histogram& latency_;
};

}  // namespace ste::eval
