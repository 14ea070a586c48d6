// GET /api/stream: the tenant's live events as server-sent events (docs/DESIGN.md §7). The hub
// (evaluator/stream) decides what a connection gets; this file maps it to HTTP: the key's
// tenant, 429 beyond the connection limits, and a chunked body that waits for frames and sends
// a keep-alive comment when there are none. A connection holds one cpp-httplib thread (the
// server has STE_STREAM_MAX_CONNECTIONS more threads than the API needs).
#include <fmt/format.h>

#include "evaluator/api/api_handlers.hpp"
#include "evaluator/stream/sse_frame.hpp"
#include "evaluator/stream/stream_hub.hpp"

namespace ste::api {

namespace {
void refuse(httplib::Response& res, const stream::StreamHub& hub, stream::StreamHub::Refusal r) {
  res.set_header("Retry-After", "10");
  const auto& l = hub.limits();
  send_error(res, {429, "too_many_streams",
                   r == stream::StreamHub::Refusal::too_many_for_key
                       ? fmt::format("this API key has {} live streams open already "
                                     "(STE_STREAM_MAX_PER_KEY); close one or retry later",
                                     l.max_per_key)
                       : fmt::format("this server has {} live streams open already "
                                     "(STE_STREAM_MAX_CONNECTIONS); retry later",
                                     l.max_connections)});
}
}  // namespace

void register_stream_routes(httplib::Server& s, PgPool& pool, stream::StreamHub* hub) {
  s.Get("/api/stream",
        tenant_endpoint(pool, [hub](const httplib::Request& req, httplib::Response& res,
                                    const Tenant& t, PgConnection&) {
          if (auto e = unknown_query_param(req, {})) return send_error(res, *e);
          if (hub == nullptr) {
            return send_error(res, {503, "unavailable", "live events are not available here"});
          }
          auto opened = hub->open(t.slug, t.key_id, req.get_header_value("Last-Event-ID"));
          if (auto* r = std::get_if<stream::StreamHub::Refusal>(&opened)) {
            return refuse(res, *hub, *r);
          }
          auto sub = std::get<std::shared_ptr<stream::StreamSubscription>>(std::move(opened));
          const auto keepalive = hub->limits().keepalive;
          res.set_header("Cache-Control", "no-store");
          res.set_header("X-Accel-Buffering", "no");  // a proxy in front must not buffer it
          res.set_chunked_content_provider(
              "text/event-stream",
              [sub, keepalive](std::size_t, httplib::DataSink& sink) {
                const auto frames = sub->wait(keepalive);
                if (sub->stopped()) return false;  // the evaluator is stopping: end the stream
                std::string out;
                for (const auto& f : frames) out += *f;
                if (out.empty()) out = stream::sse_comment("keep-alive");
                // Blocks at most the server's write timeout on a client that does not read; the
                // hub meanwhile bounds what waits for it.
                return sink.write(out.data(), out.size());
              },
              [hub, sub](bool) { hub->close(sub); });
        }));
}

}  // namespace ste::api
