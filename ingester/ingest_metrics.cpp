#include "ingester/ingest_metrics.hpp"

#include <string>

#include "common/metric_builders.hpp"

namespace ste::ingest {

IngestMetrics::IngestMetrics(prometheus::Registry& r)
    : messages(add_counter(r, "ste_ingest_messages_total", "Messages received from NATS")),
      readings_stored(
          add_counter(r, "ste_ingest_readings_stored_total", "Readings inserted into PostgreSQL")),
      readings_duplicate(add_counter(r, "ste_ingest_readings_duplicate_total",
                                     "Accepted readings that were already stored (redelivery)")),
      batches_ok(prometheus::BuildCounter()
                     .Name("ste_ingest_batches_total")
                     .Help("Batches written, by result")
                     .Register(r)
                     .Add({{"result", "ok"}})),
      batches_failed(prometheus::BuildCounter()
                         .Name("ste_ingest_batches_total")
                         .Help("Batches written, by result")
                         .Register(r)
                         .Add({{"result", "failed"}})),
      write_retries(
          add_counter(r, "ste_ingest_write_retries_total", "Batch writes retried after a failure")),
      readings_dropped(add_counter(r, "ste_ingest_readings_dropped_total",
                                   "Readings lost with a failed batch (core mode only)")),
      messages_naked(
          add_counter(r, "ste_ingest_messages_nak_total",
                      "Messages handed back to JetStream for redelivery after a failure")),
      summary_failures(add_counter(r, "ste_ingest_summary_publish_failures_total",
                                   "Batch summaries that could not be published")),
      batches_summary_failed(prometheus::BuildCounter()
                                 .Name("ste_ingest_batches_total")
                                 .Help("Batches written, by result")
                                 .Register(r)
                                 .Add({{"result", "summary_failed"}})),
      summary_parts(add_counter(r, "ste_ingest_summary_parts_total",
                                "Summary messages published (a large batch's summary is split)")),
      messages_in_progress(
          add_counter(r, "ste_ingest_messages_in_progress_total",
                      "In-progress signals sent to JetStream for messages held over 10 s")),
      ack_failures(add_counter(r, "ste_ingest_settle_failures_total",
                               "Acks, naks and in-progress signals that NATS refused",
                               {{"op", "ack"}})),
      nak_failures(add_counter(r, "ste_ingest_settle_failures_total",
                               "Acks, naks and in-progress signals that NATS refused",
                               {{"op", "nak"}})),
      in_progress_failures(add_counter(r, "ste_ingest_settle_failures_total",
                                       "Acks, naks and in-progress signals that NATS refused",
                                       {{"op", "in_progress"}})),
      dead_lettered(
          add_counter(r, "ste_dead_lettered_total",
                      "Messages moved to ste.dead.<stream> (terminated on their stream), by "
                      "reason",
                      {{"stream", "SENSORS"}, {"reason", "write_failed"}})),
      batch_seconds(
          prometheus::BuildHistogram()
              .Name("ste_ingest_batch_seconds")
              .Help("Time to write a batch, publish its summary and ack it")
              .Register(r)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                               0.5, 1, 2.5, 5, 10})),
      batch_size(prometheus::BuildHistogram()
                     .Name("ste_ingest_batch_readings")
                     .Help("Readings per written batch")
                     .Register(r)
                     .Add({}, prometheus::Histogram::BucketBoundaries{10, 100, 500, 1000, 2000,
                                                                      5000, 10000, 20000})),
      buffered_readings(
          add_gauge(r, "ste_ingest_buffered_readings", "Readings waiting in the batch buffer")),
      inflight_readings(add_gauge(r, "ste_ingest_inflight_readings",
                                  "Readings received but not yet committed or rejected")),
      consumer_pending(add_gauge(r, "ste_ingest_consumer_pending",
                                 "Messages waiting in the JetStream consumer (consumer lag)")),
      stream_trimmed(
          add_counter(r, "ste_ingest_stream_trimmed_messages_total",
                      "Acknowledged messages purged from the SENSORS stream (limits "
                      "retention: trimmed below the consumers' ack floors every trim interval)")),
      trim_failures(add_counter(r, "ste_ingest_stream_trim_failures_total",
                                "SENSORS trims that failed (the stream grows until one succeeds)")),
      device_cap_deferred(
          add_counter(r, "ste_ingest_device_cap_deferred_total",
                      "Messages handed back to wait because their device is new and "
                      "the tenant's new-device cap is reached")),
      device_cap_held(add_gauge(r, "ste_ingest_device_cap_held",
                                "Messages currently waiting for the new-device cap")) {
  auto& family = prometheus::BuildCounter()
                     .Name("ste_ingest_rejected_total")
                     .Help("Rejected messages or readings, by reason")
                     .Register(r);
  for (auto reason : kAllRejectReasons) {
    rejected[static_cast<size_t>(reason)] =
        &family.Add({{"reason", std::string(reason_name(reason))}});
  }
}

}  // namespace ste::ingest
