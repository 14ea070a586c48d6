#include "ingester/purge_probe.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ste::ingest {

namespace {

std::string random_suffix() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

std::string failure(std::string_view step, natsStatus s, jsErrCode jerr) {
  return fmt::format("the purge probe could not {}: {} (jetstream error {})", step,
                     natsStatus_GetText(s), static_cast<int>(jerr));
}

/// JetStream API requests of the probe wait at most this long: a request the NATS user may not
/// make gets no answer at all (the server drops it), only a timeout.
constexpr std::int64_t kProbeWaitMs = 1000;

jsOptions probe_options() {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = kProbeWaitMs;
  return o;
}

/// Deletes the scratch stream (and with it the consumer) however the probe ends.
struct ScratchStream {
  jsCtx* js;
  std::string name;
  bool created = false;
  ~ScratchStream() {
    if (created) {
      jsOptions o = probe_options();
      js_DeleteStream(js, name.c_str(), &o, nullptr);
    }
  }
};

/// Whether this NATS user may purge and delete streams, asked about a stream that does not exist:
/// allowed, the server answers "stream not found" at once; denied (deploy/nats/accounts.conf
/// denies both to the services), it does not answer. Checked first so that a scratch stream is
/// never created where it could not be deleted again.
std::string denied_stream_admin(jsCtx* js, const std::string& missing_stream) {
  for (const bool purge : {true, false}) {
    jsOptions o = probe_options();
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = purge ? js_PurgeStream(js, missing_stream.c_str(), &o, &jerr)
                               : js_DeleteStream(js, missing_stream.c_str(), &o, &jerr);
    if (jerr != JSStreamNotFoundErr) {
      return fmt::format(
          "this NATS user may not {} streams (no answer to $JS.API.STREAM.{}: {}), so SENSORS "
          "cannot be trimmed; deploy/nats/accounts.conf denies it to the services",
          purge ? "purge" : "delete", purge ? "PURGE" : "DELETE", natsStatus_GetText(s));
    }
  }
  return {};
}

/// Purges the acked message 1 only, as the trimmer would (below the ack floor); "" on success.
std::string purge_first(NatsClient& nats, const std::string& stream) {
  try {
    nats.purge_below(stream, 2);
    return {};
  } catch (const NatsError& e) {
    return fmt::format("the purge probe could not purge its scratch stream: {}", e.what());
  }
}

}  // namespace

PurgeSafety probe_purge_safety(NatsClient& nats) {
  const std::string suffix = random_suffix();
  ScratchStream stream{nats.js(), "STE_PURGE_PROBE_" + suffix};
  const std::string subject = "_ste.purge_probe." + suffix;
  if (auto denied = denied_stream_admin(nats.js(), stream.name); !denied.empty()) {
    return {false, denied};
  }

  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream.name.c_str();
  const char* subjects[] = {subject.c_str()};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_MemoryStorage;
  cfg.Retention = js_LimitsPolicy;
  cfg.MaxMsgs = 16;
  jsOptions wait = probe_options();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(nullptr, nats.js(), &cfg, &wait, &jerr);
  if (s != NATS_OK) return {false, failure("create a scratch stream", s, jerr)};
  stream.created = true;

  // A consumer made exactly as the ingester's durable is (no filter subject): nats-server 2.9.10
  // applies a purge to a consumer only where the purge's subject matches its filter, and an
  // unfiltered one always matches.
  natsSubscription* sub = nullptr;
  try {
    for (int i = 0; i < 2; ++i) {
      nats.js_publish(subject, "probe", std::chrono::milliseconds{kProbeWaitMs});
    }
    const ConsumerSpec probe{stream.name, "probe"};
    nats.ensure_pull_consumer(probe);
    sub = nats.pull_subscribe(probe, subject);
  } catch (const NatsError& e) {
    return {false,
            fmt::format("the purge probe could not fill or read its scratch stream: {}", e.what())};
  }

  // Deliver both messages, then ack only the first: one delivery stays pending above it.
  std::vector<natsMsg*> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  while (got.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    natsMsgList list{};
    if (natsSubscription_Fetch(&list, sub, 2 - static_cast<int>(got.size()), 1000, nullptr) !=
        NATS_OK) {
      continue;
    }
    for (int i = 0; i < list.Count; ++i) {
      got.push_back(list.Msgs[i]);
      list.Msgs[i] = nullptr;  // owned by `got` now
    }
    natsMsgList_Destroy(&list);
  }
  PurgeSafety out;
  if (got.size() < 2) {
    out.detail = fmt::format("the purge probe's consumer got {} of its 2 messages", got.size());
  } else if ((s = natsMsg_AckSync(got[0], &wait, &jerr)) != NATS_OK) {
    out.detail = failure("ack its first message", s, jerr);
  } else if (const std::string purge_error = purge_first(nats, stream.name); !purge_error.empty()) {
    out.detail = purge_error;
  } else {
    jsConsumerInfo* ci = nullptr;
    if ((s = js_GetConsumerInfo(&ci, nats.js(), stream.name.c_str(), "probe", &wait, &jerr)) !=
        NATS_OK) {
      out.detail = failure("read its consumer", s, jerr);
    } else {
      out.keeps_unacked = ci->NumAckPending == 1;
      out.detail = fmt::format(
          "after a purge below an unacked delivery the consumer had {} of 1 still pending",
          ci->NumAckPending);
      jsConsumerInfo_Destroy(ci);
    }
  }
  for (natsMsg* m : got) natsMsg_Destroy(m);
  natsSubscription_Destroy(sub);
  return out;
}

}  // namespace ste::ingest
