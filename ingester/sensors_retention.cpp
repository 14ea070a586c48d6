#include "ingester/sensors_retention.hpp"

#include <fmt/format.h>

namespace ste::ingest {

std::string_view retention_request_name(RetentionRequest r) {
  switch (r) {
    case RetentionRequest::automatic:
      return "auto";
    case RetentionRequest::limits:
      return "limits";
    case RetentionRequest::work_queue:
      return "work-queue";
  }
  return "auto";
}

std::optional<RetentionRequest> parse_retention_request(std::string_view s) {
  if (s == "auto") return RetentionRequest::automatic;
  if (auto r = parse_retention(s)) {
    return *r == StreamRetention::limits ? RetentionRequest::limits : RetentionRequest::work_queue;
  }
  return std::nullopt;
}

RetentionDecision decide_sensors_retention(RetentionRequest request, const PurgeSafety& safety) {
  switch (request) {
    case RetentionRequest::work_queue:
      return {StreamRetention::work_queue, {}};
    case RetentionRequest::automatic:
      return {safety.keeps_unacked ? StreamRetention::limits : StreamRetention::work_queue, {}};
    case RetentionRequest::limits:
      if (safety.keeps_unacked) return {StreamRetention::limits, {}};
      return {StreamRetention::work_queue,
              fmt::format("--sensors-retention=limits needs a nats-server whose stream purge keeps "
                          "unacked deliveries (2.9.15 or later), or trimming would lose readings "
                          "in flight; this server's does not ({}). Use auto or work-queue, or "
                          "upgrade nats-server",
                          safety.detail)};
  }
  return {StreamRetention::work_queue, {}};
}

bool should_trim(StreamRetention effective, const PurgeSafety& safety) {
  return effective == StreamRetention::limits && safety.keeps_unacked;
}

}  // namespace ste::ingest
