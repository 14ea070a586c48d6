#pragma once
/// Publishes a committed episode transition live: the alert object on `ste.alerts.<tenant>`
/// (core NATS, at most once) and one log line. The transition and its outbox rows are already
/// committed, so a refused publish is counted and logged, never thrown: only the live event is
/// lost. Used by the evaluator, the API (acks, manual and rule-change resolves) and the timer.
/// Thread-safe (the Publisher and the counter are).
#include <prometheus/counter.h>

#include "common/publisher.hpp"
#include "evaluator/alerts/episode_log.hpp"

namespace ste::eval {

void publish_notice(Publisher& events, prometheus::Counter& publish_errors,
                    const EpisodeNotice& notice);

}  // namespace ste::eval
