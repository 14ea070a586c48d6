#include "evaluator/delivery/delivery_metrics.hpp"

namespace ste::eval {

DeliveryMetrics::DeliveryMetrics(prometheus::Registry& r)
    : pending(prometheus::BuildGauge()
                  .Name("ste_delivery_pending")
                  .Help("Deliveries waiting to be sent or retried (all instances)")
                  .Register(r)
                  .Add({})),
      oldest_pending_seconds(prometheus::BuildGauge()
                                 .Name("ste_delivery_oldest_pending_seconds")
                                 .Help("Age of the oldest pending delivery")
                                 .Register(r)
                                 .Add({})),
      attempts_(prometheus::BuildCounter()
                    .Name("ste_delivery_attempts_total")
                    .Help("Webhook delivery attempts by target and outcome")
                    .Register(r)),
      latency_(prometheus::BuildHistogram()
                   .Name("ste_delivery_attempt_seconds")
                   .Help("Duration of one delivery attempt")
                   .Register(r)
                   .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1,
                                                                    0.25, 0.5, 1, 2, 5})) {}

void DeliveryMetrics::attempt(const std::string& target, const std::string& outcome,
                              double seconds) {
  attempts_.Add({{"target", target}, {"outcome", outcome}}).Increment();
  latency_.Observe(seconds);
}

}  // namespace ste::eval
