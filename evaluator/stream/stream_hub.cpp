#include "evaluator/stream/stream_hub.hpp"

#include <algorithm>
#include <random>

#include "common/json_writer.hpp"
#include "common/metric_builders.hpp"
#include "common/time_format.hpp"
#include "evaluator/stream/sse_frame.hpp"

namespace ste::stream {

namespace {

Frame make_frame(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

std::string reset_json(std::string_view reason) {
  JsonWriter w;
  w.begin_object().field("reason", reason).end_object();
  return w.take();
}

/// One `readings` event: the due updates of one tenant's devices.
std::string readings_json(const std::vector<const DeviceUpdate*>& updates) {
  JsonWriter w;
  w.begin_object().key("devices").begin_array();
  for (const DeviceUpdate* u : updates) {
    w.begin_object().field("device", u->device).key("metrics").begin_object();
    for (const auto& [metric, v] : u->metrics) {
      w.key(metric).begin_object().field("value", v.value);
      w.field("ts", format_rfc3339_ms(v.ts)).end_object();
    }
    w.end_object().end_object();
  }
  w.end_array().end_object();
  return w.take();
}

}  // namespace

std::vector<Frame> StreamSubscription::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return stopped_ || !queue_.empty(); });
  if (stopped_) return {};
  std::vector<Frame> out(std::make_move_iterator(queue_.begin()),
                         std::make_move_iterator(queue_.end()));
  queue_.clear();
  queued_bytes_ = 0;
  return out;
}

bool StreamSubscription::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

bool StreamSubscription::push(Frame f, const Frame& reset) {
  bool kept = true;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= limit_ || queued_bytes_ + f->size() > kMaxQueuedBytes) {
      // The client is not reading: what it missed is replaced by one `reset` (reload), so its
      // queue stays bounded and nobody upstream waits for it.
      queue_.clear();
      queue_.push_back(reset);
      queued_bytes_ = reset->size();
      kept = false;
    } else {
      queued_bytes_ += f->size();
      queue_.push_back(std::move(f));
    }
  }
  cv_.notify_one();
  return kept;
}

void StreamSubscription::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

StreamHub::StreamHub(StreamLimits limits, std::string epoch, const Clock& clock,
                     prometheus::Registry& registry)
    : limits_(limits),
      epoch_(std::move(epoch)),
      clock_(clock),
      overflow_reset_(make_frame(sse_frame("reset", reset_json("slow_client")))),
      throttle_(limits.reading_interval, limits.max_devices),
      connections_gauge_(
          add_gauge(registry, "ste_api_stream_connections", "Open GET /api/stream connections")),
      refused_for_key_(add_counter(registry, "ste_api_stream_refused_total",
                                   "Stream connections refused (429): too many for one API key, or "
                                   "too many in all",
                                   {{"reason", "per_key"}})),
      refused_total_(
          add_counter(registry, "ste_api_stream_refused_total", "", {{"reason", "total"}})),
      overflows_(add_counter(registry, "ste_api_stream_overflows_total",
                             "Stream connections whose queue filled (a client not reading): their "
                             "queued events were replaced by a reset")),
      resets_unresumable_(add_counter(registry, "ste_api_stream_unresumable_total",
                                      "Reconnections whose Last-Event-ID this instance could not "
                                      "resume (another instance's, before a restart, or too old)")),
      readings_dropped_(add_counter(registry, "ste_api_stream_readings_dropped_total",
                                    "Readings not streamed because the per-device throttle tracked "
                                    "its maximum number of devices")) {}

StreamHub::~StreamHub() { stop(); }

std::string StreamHub::random_epoch() {
  static constexpr char kChars[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::random_device rd;
  std::uniform_int_distribution<int> pick(0, 35);
  std::string s(16, '0');
  for (auto& c : s) c = kChars[pick(rd)];
  return s;
}

void StreamHub::start() {
  std::lock_guard lock(mu_);
  if (ticker_.joinable() || stopping_) return;
  ticker_ = std::thread([this] { ticker(); });
}

void StreamHub::stop() {
  std::vector<std::shared_ptr<StreamSubscription>> subs;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (const auto& [tenant, list] : by_tenant_) subs.insert(subs.end(), list.begin(), list.end());
  }
  ticker_cv_.notify_all();
  for (const auto& s : subs) s->stop();
  if (ticker_.joinable()) ticker_.join();
}

void StreamHub::ticker() {
  const auto period = std::max(std::chrono::milliseconds{10}, limits_.reading_interval / 4);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    ticker_cv_.wait_for(lock, period, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    flush_readings(clock_.mono());
    lock.lock();
  }
}

std::string StreamHub::position() const { return format_event_id({epoch_, last_seq_}); }

void StreamHub::fan_out(const std::string& tenant, const Frame& frame) {
  const auto it = by_tenant_.find(tenant);
  if (it == by_tenant_.end()) return;
  for (const auto& sub : it->second) {
    if (!sub->push(frame, overflow_reset_)) overflows_.Increment();
  }
}

void StreamHub::on_alert(const std::string& tenant, const std::string& alert_json) {
  std::lock_guard lock(mu_);
  const std::uint64_t seq = ++last_seq_;
  Frame frame = make_frame(sse_frame("alert", alert_json, format_event_id({epoch_, seq})));
  ring_.push_back({seq, tenant, frame});
  while (ring_.size() > limits_.replay_events) ring_.pop_front();
  fan_out(tenant, frame);
}

void StreamHub::on_reading(const std::string& tenant, const std::string& device,
                           const std::string& metric, MetricValue v) {
  std::lock_guard lock(mu_);
  if (by_tenant_.find(tenant) == by_tenant_.end()) return;
  if (!throttle_.offer(tenant, device, metric, v)) readings_dropped_.Increment();
}

void StreamHub::flush_readings(MonoPoint now) {
  std::lock_guard lock(mu_);
  const auto due = throttle_.take_due(now);
  // One frame per tenant and tick, however many devices: a connection's queue counts ticks, not
  // devices, so a large fleet does not overflow a client that keeps up.
  std::unordered_map<std::string, std::vector<const DeviceUpdate*>> by_tenant;
  for (const auto& u : due) by_tenant[u.tenant].push_back(&u);
  for (const auto& [tenant, updates] : by_tenant) {
    // A tenant nobody watches any more: the frame goes nowhere (fan_out finds no one).
    fan_out(tenant, make_frame(sse_frame("readings", readings_json(updates))));
  }
}

bool StreamHub::watching(const std::string& tenant) const {
  std::lock_guard lock(mu_);
  return by_tenant_.find(tenant) != by_tenant_.end();
}

bool StreamHub::has_subscribers() const {
  std::lock_guard lock(mu_);
  return connections_ > 0;
}

std::variant<std::shared_ptr<StreamSubscription>, StreamHub::Refusal> StreamHub::open(
    const std::string& tenant, const std::string& key_id, const std::string& last_event_id) {
  std::lock_guard lock(mu_);
  if (connections_ >= limits_.max_connections) {
    refused_total_.Increment();
    return Refusal::too_many;
  }
  int& for_key = per_key_[key_id];
  if (for_key >= limits_.max_per_key) {
    refused_for_key_.Increment();
    return Refusal::too_many_for_key;
  }
  // One more frame than the limit: the opening frames (ready, a replay) fit however long.
  auto sub = std::make_shared<StreamSubscription>(tenant, key_id, limits_.queue_frames + 1);

  // Resume when every alert event after the client's position is still in the ring.
  std::optional<EventId> from;
  std::string unresumable;
  if (!last_event_id.empty()) {
    from = parse_event_id(last_event_id);
    const std::uint64_t oldest_kept = ring_.empty() ? last_seq_ + 1 : ring_.front().seq;
    if (!from || from->epoch != epoch_ || from->seq > last_seq_) {
      unresumable = "unknown_position";
    } else if (from->seq + 1 < oldest_kept) {
      unresumable = "too_old";
    }
  }
  const bool resumed = from && unresumable.empty();
  JsonWriter ready;
  ready.begin_object().field("tenant", tenant).field("resumed", resumed).end_object();
  const std::string id = resumed ? format_event_id(*from) : position();
  std::vector<Frame> opening{make_frame(sse_frame("ready", ready.str(), id))};
  if (resumed) {
    for (const auto& e : ring_) {
      if (e.seq > from->seq && e.tenant == tenant) opening.push_back(e.frame);
    }
  } else if (!unresumable.empty()) {
    resets_unresumable_.Increment();
    opening.push_back(make_frame(sse_frame("reset", reset_json(unresumable))));
  }
  if (opening.size() > limits_.queue_frames) {  // more missed than a queue holds: reload instead
    opening.resize(1);
    opening.push_back(make_frame(sse_frame("reset", reset_json("too_many_missed"))));
  }
  for (auto& f : opening) sub->push(std::move(f), overflow_reset_);

  if (stopping_) sub->stop();
  ++for_key;
  ++connections_;
  connections_gauge_.Set(connections_);
  by_tenant_[tenant].push_back(sub);
  return sub;
}

void StreamHub::close(const std::shared_ptr<StreamSubscription>& sub) {
  std::lock_guard lock(mu_);
  auto it = by_tenant_.find(sub->tenant_);
  if (it == by_tenant_.end()) return;
  auto& list = it->second;
  const auto pos = std::find(list.begin(), list.end(), sub);
  if (pos == list.end()) return;
  list.erase(pos);
  if (list.empty()) by_tenant_.erase(it);
  if (--per_key_[sub->key_id_] <= 0) per_key_.erase(sub->key_id_);
  --connections_;
  connections_gauge_.Set(connections_);
}

}  // namespace ste::stream
