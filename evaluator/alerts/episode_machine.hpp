#pragma once
/// EpisodeMachine: the life of one alert episode of one rule on one device (the fingerprint),
/// pure (docs/ALERTING.md §1). Given the fingerprint's open episode, if any, and how one summary
/// tuple (a batch's readings of the rule's series) stands against the rule's firing and clearing
/// conditions, it says what happens, in order:
///
///             condition holds             held for for_minutes
///   (none) ─────────────────▶ pending ─────────────────────────▶ firing
///                               │ condition breaks                 │ clear condition held
///                               ▼                                  ▼ for clear_for_minutes
///                           cancelled                           resolved (cleared)
///
/// Times are device (data) times. A tuple carries only its min, max and newest reading, so:
/// - "the condition held throughout" is decided on the whole tuple (every reading crosses);
/// - a pending period starts at the tuple's earliest known time when every reading crosses, at
///   its newest reading when only that one is known to cross after the last one that did not;
/// - with for_minutes = 0 an episode fires at its first crossing (the behaviour before episodes);
/// - a firing episode clears from the tuple's earliest time when every reading clears, from its
///   newest reading when that one clears; any reading that does not clear restarts the clear
///   period. A tuple that fires and whose newest, later reading clears starts clearing at once
///   (with clear_for_minutes = 0 a spike followed by a normal reading fires and resolves).
///
/// Tuples not newer than what the fingerprint has already seen (`seen_until`: a redelivered
/// summary, or a late batch processed after a newer one by another evaluator) change nothing:
/// evaluating the same tuple twice is a no-op, and old data cannot cancel or resolve what newer
/// data decided. Cooldown, notification and storage are the caller's (AlertStore); rule edits,
/// manual resolves and no-data are not decided here. Not wired into the evaluator yet: the
/// episode schema, store and API come with the rest of issue #15.
#include <optional>
#include <vector>

#include "common/clock.hpp"

namespace ste::eval {

/// How one summary tuple stands against a rule: derived from the rule math (rule_evaluator.hpp),
/// so the machine does not know rule kinds.
struct TupleVerdict {
  bool any_crosses = false;   ///< at least one reading meets the firing condition
  bool all_cross = false;     ///< every reading does
  bool all_clear = false;     ///< every reading meets the clearing condition
  bool last_crosses = false;  ///< the newest reading meets the firing condition
  bool last_clears = false;   ///< the newest reading meets the clearing condition
  TimePoint first_ts{};       ///< the earliest reading time the tuple knows
  TimePoint last_ts{};        ///< the newest reading's time
  TimePoint crossing_ts{};    ///< the reading that opens an episode (any_crosses)
};

enum class EpisodeStatus { pending, firing, resolved, cancelled };

/// The open (pending or firing) episode of a fingerprint, as stored.
struct OpenEpisode {
  EpisodeStatus status = EpisodeStatus::pending;
  TimePoint started_at{};                ///< data time of the first crossing
  std::optional<TimePoint> clear_since;  ///< firing: readings have cleared since
  TimePoint last_reading_ts{};           ///< the newest data time the episode has seen
};

/// What the machine knows of a fingerprint.
struct FingerprintState {
  std::optional<OpenEpisode> open;
  /// The newest data time any episode of this fingerprint has seen (also a closed one's).
  std::optional<TimePoint> seen_until;
};

struct EpisodeTiming {
  std::chrono::minutes for_minutes{0};
  std::chrono::minutes clear_for_minutes{0};
};

/// One thing that happens to an episode; `opened` starts a new one, the others act on the
/// episode open at that point. `at` is the data time it happened at.
struct EpisodeEvent {
  enum class Kind { opened, fired, cancelled, resolved };
  Kind kind;
  TimePoint at;
  bool operator==(const EpisodeEvent&) const = default;
};

struct EpisodeStep {
  std::vector<EpisodeEvent> events;  ///< in order; empty when nothing changed state
  std::optional<OpenEpisode> open;   ///< the open episode afterwards, with its new bookkeeping
  bool stale = false;                ///< the tuple was not newer than `seen_until`: ignored
};

EpisodeStep step_episode(const FingerprintState& state, const TupleVerdict& tuple,
                         const EpisodeTiming& timing);

}  // namespace ste::eval
