#include "common/nats_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/log.hpp"
#include "common/redact.hpp"

namespace ste {

void nats_check(natsStatus s, std::string_view what) {
  if (s == NATS_OK) return;
  const char* last = nats_GetLastError(nullptr);
  // URLs in the message (ours or cnats') may carry credentials: never let them reach a log.
  throw NatsError(redact_url_credentials(fmt::format("{}: {}{}{}", what, natsStatus_GetText(s),
                                                     last && *last ? ": " : "", last ? last : "")),
                  s);
}

namespace {
struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

std::vector<std::string> split_urls(const std::string& urls) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= urls.size()) {
    const size_t comma = urls.find(',', start);
    std::string part =
        urls.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void on_disconnected(natsConnection* nc, void*) {
  // Closing the connection also fires this callback (asynchronously, possibly after the client
  // object is gone): stay quiet for an intended close.
  if (!natsConnection_IsClosed(nc)) log::warn("nats disconnected; reconnecting");
}
void on_reconnected(natsConnection*, void*) { log::info("nats reconnected"); }
void on_error(natsConnection*, natsSubscription*, natsStatus err, void*) {
  log::warn("nats async error", {{"error", natsStatus_GetText(err)}});
}
}  // namespace

NatsClient::NatsClient(const NatsSettings& settings) : stream_replicas_(settings.stream_replicas) {
  natsOptions* raw = nullptr;
  nats_check(natsOptions_Create(&raw), "nats options");
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  const auto urls = split_urls(settings.urls);
  if (urls.empty()) throw NatsError("STE_NATS_URL is empty", NATS_INVALID_ARG);
  std::vector<const char*> url_ptrs;
  for (const auto& u : urls) url_ptrs.push_back(u.c_str());
  nats_check(natsOptions_SetServers(raw, url_ptrs.data(), static_cast<int>(url_ptrs.size())),
             "nats servers");
  if (!settings.user.empty()) {
    nats_check(natsOptions_SetUserInfo(raw, settings.user.c_str(), settings.password.c_str()),
               "nats user");
  }
  if (!settings.creds_file.empty()) {
    nats_check(natsOptions_SetUserCredentialsFromFiles(raw, settings.creds_file.c_str(), nullptr),
               "nats creds file");
  }
  if (!settings.name.empty()) natsOptions_SetName(raw, settings.name.c_str());
  natsOptions_SetMaxReconnect(raw, -1);  // a broker restart must never need a service restart
  natsOptions_SetReconnectWait(raw, 250);
  natsOptions_SetReconnectBufSize(raw, 64 * 1024 * 1024);
  natsOptions_SetTimeout(raw, 2000);
  natsOptions_SetDisconnectedCB(raw, on_disconnected, nullptr);
  natsOptions_SetReconnectedCB(raw, on_reconnected, nullptr);
  natsOptions_SetErrorHandler(raw, on_error, nullptr);

  const auto deadline = std::chrono::steady_clock::now() + settings.connect_timeout;
  natsStatus s = NATS_OK;
  for (;;) {
    s = natsConnection_Connect(&conn_, raw);
    if (s == NATS_OK || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  nats_check(s, fmt::format("cannot connect to NATS at {}", settings.urls));
  nats_check(natsConnection_JetStream(&js_, conn_, nullptr), "jetstream context");
}

NatsClient::~NatsClient() {
  if (js_) jsCtx_Destroy(js_);
  if (conn_) {
    natsConnection_FlushTimeout(conn_, 2000);
    natsConnection_Destroy(conn_);
  }
}

void retry_jetstream_setup(const std::function<void()>& setup, std::chrono::seconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (int attempt = 1;; ++attempt) {
    try {
      setup();
      return;
    } catch (const NatsError& e) {
      if (std::chrono::steady_clock::now() >= deadline) throw;
      log::warn("jetstream setup failed; retrying", {{"attempt", attempt}, {"error", e.what()}});
      std::this_thread::sleep_for(std::chrono::seconds{1});
    }
  }
}

std::string_view retention_name(StreamRetention r) {
  return r == StreamRetention::work_queue ? "work-queue" : "limits";
}

std::optional<StreamRetention> parse_retention(std::string_view s) {
  if (s == "limits") return StreamRetention::limits;
  if (s == "work-queue" || s == "work_queue") return StreamRetention::work_queue;
  return std::nullopt;
}

StreamRetention NatsClient::ensure_stream(const StreamSpec& spec) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = spec.name.c_str();
  const char* subjects[] = {spec.subject.c_str()};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  auto apply_retention = [&](StreamRetention r) {
    if (r == StreamRetention::work_queue) {
      // A message stays until the shared durable consumer acks it.
      cfg.Retention = js_WorkQueuePolicy;
      cfg.Discard = js_DiscardOld;
      cfg.MaxAge = 0;
      cfg.MaxBytes = -1;
    } else {
      cfg.Retention = js_LimitsPolicy;
      cfg.Discard = js_DiscardOld;
      cfg.MaxAge = std::chrono::duration_cast<std::chrono::nanoseconds>(spec.max_age).count();
      cfg.MaxBytes = spec.max_bytes;
    }
  };
  StreamRetention effective = spec.retention;
  apply_retention(effective);
  cfg.Replicas = stream_replicas_;
  cfg.MaxMsgSize = -1;  // the server's max_payload; the ingester rejects oversize with a reason
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* info = nullptr;
  natsStatus s = js_AddStream(&info, js_, &cfg, nullptr, &jerr);
  if (s != NATS_OK && jerr == JSStreamNameExistErr) {
    jsStreamInfo* existing = nullptr;
    if (js_GetStreamInfo(&existing, js_, spec.name.c_str(), nullptr, nullptr) == NATS_OK &&
        existing) {
      if (existing->Config) {
        // Never shrink a stream's replication: a service started with a smaller
        // STE_STREAM_REPLICAS must not take a cluster's R3 stream down to R1.
        if (existing->Config->Replicas > cfg.Replicas) cfg.Replicas = existing->Config->Replicas;
        // The server refuses to change retention to or from work-queue: keep what it has.
        const StreamRetention has = existing->Config->Retention == js_WorkQueuePolicy
                                        ? StreamRetention::work_queue
                                        : StreamRetention::limits;
        if (has != effective) {
          log::warn("stream keeps the retention it was created with",
                    {{"stream", spec.name},
                     {"retention", std::string(retention_name(has))},
                     {"configured", std::string(retention_name(effective))},
                     {"how_to_change", "docs/operations.md: The SENSORS stream's retention"}});
          effective = has;
          apply_retention(effective);
        }
      }
      jsStreamInfo_Destroy(existing);
    }
    s = js_UpdateStream(&info, js_, &cfg, nullptr, &jerr);
  }
  if (info) jsStreamInfo_Destroy(info);
  nats_check(
      s, fmt::format("ensure stream {} (jetstream error {})", spec.name, static_cast<int>(jerr)));
  return effective;
}

std::optional<StreamRetention> NatsClient::retention_of(const std::string& stream) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) return std::nullopt;
  nats_check(s, fmt::format("stream info {} (jetstream error {})", stream, static_cast<int>(jerr)));
  const StreamRetention r = si->Config && si->Config->Retention == js_WorkQueuePolicy
                                ? StreamRetention::work_queue
                                : StreamRetention::limits;
  jsStreamInfo_Destroy(si);
  return r;
}

std::optional<NatsClient::ConsumerCounts> NatsClient::consumer_counts(const std::string& stream,
                                                                      const std::string& durable) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = 2000;  // ms: a timer asks; an unreachable server must not stall it for long
  jsConsumerInfo* ci = nullptr;
  if (js_GetConsumerInfo(&ci, js_, stream.c_str(), durable.c_str(), &o, nullptr) != NATS_OK ||
      ci == nullptr) {
    return std::nullopt;
  }
  const ConsumerCounts n{ci->NumPending,
                         static_cast<std::uint64_t>(std::max<std::int64_t>(0, ci->NumAckPending))};
  jsConsumerInfo_Destroy(ci);
  return n;
}

StreamPosition NatsClient::stream_position(const std::string& stream) {
  StreamPosition out;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  nats_check(js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &jerr),
             fmt::format("stream info {} (jetstream error {})", stream, static_cast<int>(jerr)));
  out.first_seq = si->State.Msgs > 0 ? si->State.FirstSeq : 0;
  out.last_seq = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  jsConsumerInfoList* list = nullptr;
  const natsStatus s = js_Consumers(&list, js_, stream.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND) return out;  // no consumers
  nats_check(s,
             fmt::format("consumers of {} (jetstream error {})", stream, static_cast<int>(jerr)));
  for (int i = 0; i < list->Count; ++i) {
    out.ack_floors.push_back(list->List[i]->AckFloor.Stream);
  }
  jsConsumerInfoList_Destroy(list);
  return out;
}

void NatsClient::purge_below(const std::string& stream, std::uint64_t seq) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Purge.Sequence = seq;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  nats_check(
      js_PurgeStream(js_, stream.c_str(), &o, &jerr),
      fmt::format("purge {} below {} (jetstream error {})", stream, seq, static_cast<int>(jerr)));
}

void NatsClient::ensure_pull_consumer(const ConsumerSpec& spec) {
  jsConsumerConfig cfg;
  jsConsumerConfig_Init(&cfg);
  cfg.Durable = spec.durable.c_str();
  cfg.AckPolicy = js_AckExplicit;
  cfg.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(spec.ack_wait).count();
  cfg.MaxAckPending = spec.max_ack_pending;
  cfg.MaxWaiting = 512;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsConsumerInfo* info = nullptr;
  natsStatus s = js_AddConsumer(&info, js_, spec.stream.c_str(), &cfg, nullptr, &jerr);
  if (s != NATS_OK && jerr != 0) {  // exists with other settings: bring it to the spec
    s = js_UpdateConsumer(&info, js_, spec.stream.c_str(), &cfg, nullptr, &jerr);
  }
  if (info) jsConsumerInfo_Destroy(info);
  nats_check(s, fmt::format("ensure consumer {} on {} (jetstream error {})", spec.durable,
                            spec.stream, static_cast<int>(jerr)));
}

natsSubscription* NatsClient::pull_subscribe(const ConsumerSpec& spec, const std::string& filter) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = spec.stream.c_str();
  so.Consumer = spec.durable.c_str();
  so.ManualAck = true;
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  nats_check(
      js_PullSubscribe(&sub, js_, filter.c_str(), spec.durable.c_str(), nullptr, &so, &jerr),
      fmt::format("pull subscribe {} (jetstream error {})", spec.durable, static_cast<int>(jerr)));
  return sub;
}

void NatsClient::publish(const std::string& subject, std::string_view data) {
  nats_check(
      natsConnection_Publish(conn_, subject.c_str(), data.data(), static_cast<int>(data.size())),
      fmt::format("publish {}", subject));
}

void NatsClient::js_publish(const std::string& subject, std::string_view data,
                            std::chrono::milliseconds timeout) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout.count();
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_Publish(&ack, js_, subject.c_str(), data.data(), static_cast<int>(data.size()),
                            &po, &jerr);
  if (ack) jsPubAck_Destroy(ack);
  nats_check(
      s, fmt::format("jetstream publish {} (jetstream error {})", subject, static_cast<int>(jerr)));
}

std::int64_t NatsClient::max_payload() { return natsConnection_GetMaxPayload(conn_); }

void NatsClient::flush(std::chrono::milliseconds timeout) {
  nats_check(natsConnection_FlushTimeout(conn_, timeout.count()), "nats flush");
}

bool NatsClient::connected() const {
  return conn_ && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

}  // namespace ste
