#include "evaluator/alerts/episode_machine.hpp"

#include <algorithm>

namespace ste::eval {

namespace {

using Kind = EpisodeEvent::Kind;

/// A firing episode meets readings from `from` on: clears, keeps clearing, or stays firing.
/// Appends `resolved` and closes the episode when the clear period is complete.
void clearing(EpisodeStep& step, OpenEpisode ep, const TupleVerdict& t, bool whole_tuple,
              const EpisodeTiming& timing) {
  if (whole_tuple && t.all_clear) {
    ep.clear_since = ep.clear_since.value_or(t.first_ts);
  } else if (t.last_clears) {
    ep.clear_since = t.last_ts;  // a reading before it did not clear (or is not known to)
  } else {
    ep.clear_since.reset();
  }
  ep.last_reading_ts = std::max(ep.last_reading_ts, t.last_ts);
  if (ep.clear_since && t.last_ts - *ep.clear_since >= timing.clear_for_minutes) {
    step.events.push_back({Kind::resolved, t.last_ts});
    step.open.reset();
    return;
  }
  step.open = ep;
}

/// No episode is open: the tuple may open one (pending, or firing at once).
void opening(EpisodeStep& step, const TupleVerdict& t, const EpisodeTiming& timing) {
  if (!t.any_crosses) return;
  OpenEpisode ep;
  ep.last_reading_ts = t.last_ts;
  if (timing.for_minutes.count() <= 0) {
    ep.started_at = t.crossing_ts;
    ep.status = EpisodeStatus::firing;
    step.events.push_back({Kind::opened, ep.started_at});
    step.events.push_back({Kind::fired, ep.started_at});
    // Only the newest reading is known to come after the crossing.
    if (t.last_ts > t.crossing_ts) {
      clearing(step, ep, t, /*whole_tuple=*/false, timing);
    } else {
      step.open = ep;
    }
    return;
  }
  if (t.all_cross) {
    ep.started_at = t.first_ts;
  } else if (t.last_crosses) {
    ep.started_at = t.last_ts;
  } else {
    return;  // it crossed, then a later reading broke the condition: nothing pending
  }
  step.events.push_back({Kind::opened, ep.started_at});
  if (t.last_ts - ep.started_at >= timing.for_minutes) {
    ep.status = EpisodeStatus::firing;
    step.events.push_back({Kind::fired, ep.started_at + timing.for_minutes});
  }
  step.open = ep;
}

}  // namespace

EpisodeStep step_episode(const FingerprintState& state, const TupleVerdict& t,
                         const EpisodeTiming& timing) {
  EpisodeStep step;
  step.open = state.open;
  if (state.seen_until && t.last_ts <= *state.seen_until) {
    step.stale = true;
    return step;
  }
  if (!state.open) {
    opening(step, t, timing);
    return step;
  }
  OpenEpisode ep = *state.open;
  if (ep.status == EpisodeStatus::firing) {
    clearing(step, ep, t, /*whole_tuple=*/true, timing);
    return step;
  }
  // Pending: every reading must keep the condition.
  if (t.all_cross) {
    ep.last_reading_ts = std::max(ep.last_reading_ts, t.last_ts);
    if (t.last_ts - ep.started_at >= timing.for_minutes) {
      ep.status = EpisodeStatus::firing;
      step.events.push_back(
          {Kind::fired, std::max(ep.started_at + timing.for_minutes, t.first_ts)});
    }
    step.open = ep;
    return step;
  }
  step.events.push_back({Kind::cancelled, t.last_ts});
  step.open.reset();
  opening(step, t, timing);  // the newest reading may start a new pending period
  return step;
}

}  // namespace ste::eval
