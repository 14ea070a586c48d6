#include "ingester/message_intake.hpp"

#include <string_view>

#include "common/json_writer.hpp"
#include "common/log.hpp"
#include "common/nats_client.hpp"
#include "ingester/subject_parser.hpp"

namespace ste::ingest {

namespace {

std::string truncated(std::string_view payload) {
  return std::string(payload.substr(0, kRejectedPayloadMax));
}
}  // namespace

void MessageIntake::finish_now(natsMsg* msg) {
  if (d_.jetstream) d_.settler.ack(msg);
  natsMsg_Destroy(msg);
}

void MessageIntake::hand_back(natsMsg* msg, const std::exception& e) {
  if (dependency_warnings_.admit(d_.clock.mono())) {
    log::warn("message not processed: dependency failed",
              {{"error", e.what()}, {"action", d_.jetstream ? "redeliver" : "drop"}});
  }
  if (d_.jetstream) {
    d_.settler.nak(msg, Millis{kRedeliveryDelayMs});
    d_.metrics.messages_naked.Increment();
  }
  natsMsg_Destroy(msg);
}

void MessageIntake::reject(const std::string& subject, const Rejection& r) {
  d_.metrics.rejected_for(r.reason).Increment();
  JsonWriter w;
  w.begin_object();
  w.field("reason", reason_name(r.reason));
  w.field("subject", subject);
  w.key("index");
  if (r.index) {
    w.value(static_cast<std::uint64_t>(*r.index));
  } else {
    w.null();
  }
  w.field("payload", r.payload);
  w.field("detail", r.detail);
  w.end_object();
  try {
    d_.publisher.publish("ste.rejected." + rejected_subject_token(subject), w.str());
  } catch (const NatsError& e) {
    log::warn("cannot publish rejection", {{"error", e.what()}});
  }
  if (auto suppressed = d_.reject_log.admit(r.reason, d_.clock.now())) {
    log::warn("rejected", {{"reason", reason_name(r.reason)},
                           {"subject", subject},
                           {"index", r.index ? static_cast<std::int64_t>(*r.index) : -1},
                           {"detail", r.detail},
                           {"suppressed_since_last", *suppressed}});
  }
}

void MessageIntake::over_cap(natsMsg* msg, const std::string& subject, std::string_view payload,
                             const std::string& tenant, std::uint64_t seq,
                             std::optional<TimePoint> first_deferred) {
  // Wall time: the cap windows are clock minutes (NewDeviceLimiter), and the DeferralBook keeps
  // wall times.
  const TimePoint now = d_.clock.now();
  const auto delivered = static_cast<std::uint64_t>(d_.jetstream ? d_.settler.deliveries(msg) : 1);
  deferrals_.purge(now);
  const Millis waited =
      first_deferred ? std::chrono::duration_cast<Millis>(now - *first_deferred) : Millis{0};
  const OverCapDecision d =
      decide_over_cap(d_.deferral, d_.jetstream, now, d_.devices.next_window(now), waited,
                      deferrals_.held(), jitter_seed(seq, delivered));
  if (d.verdict == OverCap::defer) {
    const bool told = d_.settler.nak(msg, d.delay);
    natsMsg_Destroy(msg);
    if (told) {
      deferrals_.hold(seq, first_deferred.value_or(now), now + d.delay + d_.deferral.grace);
      d_.metrics.device_cap_deferred.Increment();
    }
    d_.metrics.device_cap_held.Set(static_cast<double>(deferrals_.held()));
    if (const auto refused = deferral_logs_.admit(d_.clock.mono())) {
      log::warn("new devices over the cap: their readings wait",
                {{"tenant", tenant},
                 {"cap", d_.deferral.cap},
                 {"window_s",
                  std::chrono::duration_cast<std::chrono::seconds>(d_.deferral.window).count()},
                 {"waiting_messages", deferrals_.held()},
                 {"deferred_since_last", *refused + 1},
                 {"nak", told ? "ok" : "failed"},
                 {"action",
                  "raise STE_MAX_NEW_DEVICES_PER_MINUTE or register the devices ahead "
                  "(ste-admin devices register, POST /api/devices)"}});
    }
    return;
  }
  // The cap applies to the device, so the message's accepted readings are rejected together,
  // as one rejection of the whole message.
  reject(subject, {RejectReason::device_limit, std::nullopt, truncated(payload),
                   "new-device limit for this tenant reached (STE_MAX_NEW_DEVICES_PER_MINUTE): " +
                       std::string(d.why)});
  finish_now(msg);
}

bool MessageIntake::handle(natsMsg* msg) {
  d_.metrics.messages.Increment();
  const std::string subject = natsMsg_GetSubject(msg);
  const std::string_view payload(natsMsg_GetData(msg),
                                 static_cast<size_t>(natsMsg_GetDataLength(msg)));
  const TimePoint now = d_.clock.now();

  // Absent `ts` takes the time JetStream stored the message: stable across redelivery, so a
  // redelivered reading gets the same uniqueness key.
  TimePoint default_ts = now;
  std::uint64_t seq = 0;
  std::optional<TimePoint> first_deferred;
  if (d_.jetstream) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta) {
      default_ts = TimePoint{std::chrono::duration_cast<TimePoint::duration>(
          std::chrono::nanoseconds{meta->Timestamp})};
      d_.metrics.consumer_pending.Set(static_cast<double>(meta->NumPending));
      seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
    // A message that waited for the new-device cap is back, whatever happens to it now.
    first_deferred = deferrals_.take(seq);
    if (first_deferred) d_.metrics.device_cap_held.Set(static_cast<double>(deferrals_.held()));
  }

  const auto parsed_subject = parse_sensor_subject(subject);
  if (!parsed_subject) {
    reject(subject,
           {RejectReason::invalid_subject, std::nullopt, truncated(payload),
            "subject must be sensors.<tenant [a-z0-9-]{1,63}>.<device [A-Za-z0-9_-]{1,128}>"});
    finish_now(msg);
    return false;
  }

  std::optional<std::int64_t> tenant_id;
  try {
    tenant_id = d_.tenants.resolve(parsed_subject->tenant);
  } catch (const std::exception& e) {
    hand_back(msg, e);
    return false;
  }
  if (!tenant_id) {
    reject(subject, {RejectReason::unknown_tenant, std::nullopt, truncated(payload),
                     "no tenant with slug '" + parsed_subject->tenant + "'"});
    finish_now(msg);
    return false;
  }

  ParsedMessage parsed =
      parser_.parse(payload, MessageContext{parsed_subject->device, now, default_ts, d_.retention});
  for (const auto& r : parsed.rejections) reject(subject, r);
  if (parsed.readings.empty()) {
    finish_now(msg);
    return false;
  }

  std::optional<std::int64_t> device_id;
  try {
    device_id = d_.devices.resolve(*tenant_id, parsed_subject->device);
  } catch (const std::exception& e) {
    hand_back(msg, e);
    return false;
  }
  if (!device_id) {
    // Nothing of this message was buffered or counted in flight: it waits or is rejected whole.
    over_cap(msg, subject, payload, parsed_subject->tenant, seq, first_deferred);
    return false;
  }

  std::vector<BufferedReading> readings;
  readings.reserve(parsed.readings.size());
  for (auto& r : parsed.readings) readings.push_back({*tenant_id, *device_id, std::move(r)});
  d_.inflight.add(static_cast<std::int64_t>(readings.size()));
  const DeviceLabel label{parsed_subject->tenant, parsed_subject->device};
  return d_.buffer.push(std::move(readings), msg, &label);
}

}  // namespace ste::ingest
