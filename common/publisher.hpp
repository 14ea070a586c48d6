#pragma once
/// Publisher: the port through which a service sends messages (batch summaries, rejected
/// readings, alert events, dead letters). NatsClient is the real adapter; unit tests use
/// tests/unit/support/fake_publisher.hpp. Implementations are thread-safe.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace ste {

class Publisher {
 public:
  virtual ~Publisher() = default;
  /// At most once (core NATS, buffered by the client). Throws NatsError when the client refuses.
  virtual void publish(const std::string& subject, std::string_view data) = 0;
  /// Durable: returns once the stream has stored the message. Throws NatsError otherwise (the
  /// message may or may not be stored; the caller retries or hands its input back).
  virtual void js_publish(const std::string& subject, std::string_view data,
                          std::chrono::milliseconds timeout) = 0;
  /// The largest message the server accepts now, in bytes (read from the live connection: it can
  /// change after a reconnect to another server).
  virtual std::int64_t max_payload() = 0;
};

}  // namespace ste
