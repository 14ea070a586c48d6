#pragma once
/// The ingester's Prometheus metrics (prometheus-cpp), registered once on the service's registry.
/// prometheus-cpp metrics are thread-safe.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>

#include "ingester/reject_reason.hpp"

namespace ste::ingest {

struct IngestMetrics {
  explicit IngestMetrics(prometheus::Registry& registry);

  prometheus::Counter& messages;            ///< messages received from NATS
  prometheus::Counter& readings_stored;     ///< rows actually inserted
  prometheus::Counter& readings_duplicate;  ///< accepted but already stored (redelivery)
  prometheus::Counter& batches_ok;
  prometheus::Counter& batches_failed;
  prometheus::Counter& write_retries;
  prometheus::Counter& readings_dropped;  ///< core mode: lost with a failed batch
  prometheus::Counter& messages_naked;    ///< JetStream: handed back for redelivery
  prometheus::Counter& summary_failures;
  /// Written, but the summary could not be published (JetStream: the batch is redone).
  prometheus::Counter& batches_summary_failed;
  prometheus::Counter& summary_parts;  ///< summary messages published (a batch may need several)
  prometheus::Counter& messages_in_progress;  ///< in-progress signals sent for held messages
  prometheus::Counter& ack_failures;          ///< natsMsg_Ack that failed (settle_failures{op})
  prometheus::Counter& nak_failures;
  prometheus::Counter& in_progress_failures;
  prometheus::Counter& dead_lettered;    ///< ste_dead_lettered_total{SENSORS, write_failed}
  prometheus::Histogram& batch_seconds;  ///< write + summary + ack per batch
  prometheus::Histogram& batch_size;
  prometheus::Gauge& buffered_readings;
  prometheus::Gauge& inflight_readings;
  prometheus::Gauge& consumer_pending;  ///< consumer lag: every 5 s and from fetched messages
  prometheus::Counter& stream_trimmed;  ///< acked messages purged from SENSORS (limits retention)
  prometheus::Counter& trim_failures;   ///< trims the server did not answer
  prometheus::Counter& device_cap_deferred;  ///< handed back: new device over the cap, waits
  prometheus::Gauge& device_cap_held;        ///< messages waiting for the new-device cap now
  std::array<prometheus::Counter*, kAllRejectReasons.size()> rejected{};

  prometheus::Counter& rejected_for(RejectReason r) { return *rejected[static_cast<size_t>(r)]; }
};

}  // namespace ste::ingest
