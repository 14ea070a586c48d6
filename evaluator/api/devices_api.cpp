// /api/devices (list; POST registers keys ahead, in bulk) and /api/devices/{device}/readings (raw
// rows or one-minute buckets).
#include <fmt/format.h>

#include <algorithm>

#include "common/device_admin.hpp"
#include "common/identifiers.hpp"
#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/device_status.hpp"
#include "evaluator/api/query_parsing.hpp"
#include "evaluator/api/request_parsing.hpp"

namespace ste::api {

namespace {
constexpr int kDefaultReadings = 1000;
constexpr int kMaxReadings = 10000;  // bounded result size
constexpr int kDefaultDevices = 1000;
constexpr int kMaxDevices = 10000;

void list_devices(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                  PgConnection& db) {
  if (auto e = unknown_query_param(req, {"limit", "cursor", "status"})) return send_error(res, *e);
  auto limit = parse_limit(query_param(req, "limit"), kDefaultDevices, kMaxDevices);
  if (auto* e = std::get_if<ApiError>(&limit)) return send_error(res, *e);
  auto filter = parse_device_status_filter(query_param(req, "status"));
  if (auto* e = std::get_if<ApiError>(&filter)) return send_error(res, *e);
  const DeviceStatusFilter& want = std::get<DeviceStatusFilter>(filter);
  // The cursor is the last device key of the previous page (keys are unique per tenant); the
  // status filter is applied in the query, so pages stay full and key-ordered.
  const std::string after = query_param(req, "cursor").value_or("");
  if (after.size() > ident::kMaxDeviceKeyLength)
    return send_error(res, invalid_field("cursor must be a device key from next_cursor"));
  const int page = std::get<int>(limit);
  const TimePoint cutoff = device_offline_cutoff(db, t.id);
  PgArrayBuilder wanted;
  for (auto s : {DeviceStatus::online, DeviceStatus::offline, DeviceStatus::never_seen}) {
    if (want.accepts(s)) wanted.add(device_status_name(s));
  }
  // last_seen_at is the device's last received time (server clock, ingester/batch_writer.cpp).
  auto r =
      db.exec(fmt::format("SELECT device_key, (extract(epoch FROM created_at) * 1000000)::bigint, "
                          "(extract(epoch FROM last_seen_at) * 1000000)::bigint FROM devices "
                          "WHERE tenant_id = $1 AND device_key > $2 AND {} = ANY($4::text[]) "
                          "ORDER BY device_key LIMIT $3",
                          device_status_sql("last_seen_at", "$5")),
              {std::to_string(t.id), after, std::to_string(page + 1), wanted.finish(),
               format_rfc3339_us(cutoff)});
  const int shown = std::min(r.rows(), page);
  JsonWriter w;
  w.begin_object().key("devices").begin_array();
  for (int i = 0; i < shown; ++i) {
    std::optional<TimePoint> received;
    if (!r.is_null(i, 2)) received = from_epoch_us(r.int64(i, 2));
    w.begin_object()
        .field("device", r.text(i, 0))
        .field("created_at", format_rfc3339_ms(from_epoch_us(r.int64(i, 1))));
    // last_seen_at is kept for existing clients; last_received_at is the same instant.
    for (const char* name : {"last_seen_at", "last_received_at"}) {
      w.key(name);
      received ? w.value(format_rfc3339_ms(*received)) : w.null();
    }
    w.field("status", device_status_name(device_status(received, cutoff)));
    w.end_object();
  }
  w.end_array().key("next_cursor");
  r.rows() > page ? w.value(std::string(r.text(shown - 1, 0))) : w.null();
  w.end_object();
  send_json(res, 200, w.take());
}

/// Registers device keys ahead in one set-based statement; not subject to the ingester's
/// new-device cap (a deliberate action with the tenant's API key). Idempotent.
void register_devices(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                      PgConnection& db) {
  auto parsed = parse_devices_body(req.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
  const auto done = admin::register_devices(db, t.id, std::get<DevicesInput>(parsed).devices);
  JsonWriter w;
  w.begin_object().field("created", done.created).field("existing", done.existing).end_object();
  send_json(res, 200, w.take());
}

void device_readings(const httplib::Request& req, httplib::Response& res, const Tenant& t,
                     PgConnection& db) {
  if (auto e = unknown_query_param(req, {"metric", "from", "to", "resolution", "limit"}))
    return send_error(res, *e);
  const std::string device = req.matches[1];
  auto dev = db.exec("SELECT id FROM devices WHERE tenant_id = $1 AND device_key = $2",
                     {std::to_string(t.id), device});
  if (dev.rows() == 0) return send_error(res, not_found("no device '" + device + "'"));
  const std::string resolution = query_param(req, "resolution").value_or("raw");
  if (resolution != "raw" && resolution != "1m")
    return send_error(res, invalid_field("resolution must be raw or 1m"));
  auto limit = parse_limit(query_param(req, "limit"), kDefaultReadings, kMaxReadings);
  if (auto* e = std::get_if<ApiError>(&limit)) return send_error(res, *e);
  auto from = parse_time_param(query_param(req, "from"), "from");
  if (auto* e = std::get_if<ApiError>(&from)) return send_error(res, *e);
  auto to = parse_time_param(query_param(req, "to"), "to");
  if (auto* e = std::get_if<ApiError>(&to)) return send_error(res, *e);
  const TimePoint to_t = std::get<std::optional<TimePoint>>(to).value_or(SysClock::now());
  const TimePoint from_t =
      std::get<std::optional<TimePoint>>(from).value_or(to_t - std::chrono::hours{1});
  if (from_t > to_t) return send_error(res, invalid_field("from must not be after to"));
  const auto metric = query_param(req, "metric");

  const bool raw = resolution == "raw";
  const std::string sql = raw ? "SELECT metric, (extract(epoch FROM time) * 1000000)::bigint, "
                                "value, unit FROM readings "
                                "WHERE tenant_id = $1 AND device_id = $2 AND time >= $3 AND time < "
                                "$4 AND ($5::text IS NULL OR metric = $5) "
                                "ORDER BY time, metric LIMIT $6"
                              : "SELECT metric, (extract(epoch FROM bucket) * 1000000)::bigint, "
                                "sum / n, min, max, n FROM readings_1m "
                                "WHERE tenant_id = $1 AND device_id = $2 AND bucket >= $3 AND "
                                "bucket < $4 AND ($5::text IS NULL OR metric = $5) "
                                "ORDER BY bucket, metric LIMIT $6";
  const int n = std::get<int>(limit);
  auto r =
      db.exec(sql, {std::to_string(t.id), std::string(dev.text(0, 0)), format_rfc3339_us(from_t),
                    format_rfc3339_us(to_t), metric, std::to_string(n + 1)});
  JsonWriter w;
  w.begin_object().field("device", device).field("resolution", resolution);
  w.field("from", format_rfc3339_ms(from_t)).field("to", format_rfc3339_ms(to_t));
  w.key(raw ? "readings" : "buckets").begin_array();
  const int shown = std::min(r.rows(), n);
  for (int i = 0; i < shown; ++i) {
    w.begin_object().field("metric", r.text(i, 0));
    if (raw) {
      w.field("ts", format_rfc3339_ms(from_epoch_us(r.int64(i, 1)))).field("value", r.float8(i, 2));
      w.key("unit");
      r.is_null(i, 3) ? w.null() : w.value(r.text(i, 3));
    } else {
      w.field("bucket", format_rfc3339_ms(from_epoch_us(r.int64(i, 1))));
      w.field("avg", r.float8(i, 2)).field("min", r.float8(i, 3)).field("max", r.float8(i, 4));
      w.field("count", r.int64(i, 5));
    }
    w.end_object();
  }
  w.end_array().field("truncated", r.rows() > n).end_object();
  send_json(res, 200, w.take());
}
}  // namespace

void register_device_routes(httplib::Server& s, PgPool& pool) {
  s.Get("/api/devices", tenant_endpoint(pool, list_devices));
  s.Post("/api/devices", tenant_endpoint(pool, register_devices));
  s.Get(R"(/api/devices/([^/]+)/readings)", tenant_endpoint(pool, device_readings));
}

}  // namespace ste::api
