#pragma once
/// FlapDetector: when a fingerprint flaps (docs/ALERTING.md §5), pure. A fingerprint that
/// changes state (fires or resolves) at least `changes` times within `window` is flapping: its
/// transitions stop notifying, one `flapping_started` is sent instead, and once it has not
/// changed for `window`, one `flapping_ended` with the state it settled in. Times are the
/// database's clock at each transition (like the cooldown), so a backlog replayed in seconds is
/// judged by when its transitions happened here, and an end needs no new reading.
#include <chrono>
#include <vector>

#include "common/clock.hpp"

namespace ste::eval {

struct FlapSettings {
  int changes = 6;                  ///< flap_changes; 0 = never flapping
  std::chrono::minutes window{30};  ///< flap_window_minutes
};

struct FlapState {
  std::vector<TimePoint> changes;  ///< the recent changes, oldest first, none older than window
  bool flapping = false;
};

/// Records a change at `now`: forgets changes older than `now - window`, adds `now`, and starts
/// flapping when not flapping yet and the changes within the window reach `changes`. Returns
/// whether flapping started with this change.
bool record_change(FlapState& s, TimePoint now, const FlapSettings& f);

/// A flapping fingerprint has settled once its last change is at least `window` old.
bool flap_settled(const FlapState& s, TimePoint now, const FlapSettings& f);

}  // namespace ste::eval
