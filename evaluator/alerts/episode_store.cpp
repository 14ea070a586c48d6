#include "evaluator/alerts/episode_store.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>
#include <tuple>

#include "common/json_writer.hpp"
#include "common/pg_transaction.hpp"
#include "common/time_format.hpp"
#include "evaluator/alerts/alert_row.hpp"
#include "evaluator/alerts/cooldown_gate.hpp"
#include "evaluator/alerts/episode_flapping.hpp"

namespace ste::eval {

namespace {

using Kind = EpisodeEvent::Kind;

// Everything apply_tuple() needs to decide, read under the lock in one round trip.
constexpr const char* kStateSql = R"SQL(
SELECT (extract(epoch FROM now()) * 1000000)::bigint,
       (extract(epoch FROM f.seen_until) * 1000000)::bigint,
       (extract(epoch FROM f.last_notified_at) * 1000000)::bigint,
       a.id, a.status,
       (extract(epoch FROM a.started_at) * 1000000)::bigint,
       (extract(epoch FROM a.clear_since) * 1000000)::bigint,
       (extract(epoch FROM a.last_reading_ts) * 1000000)::bigint
FROM (SELECT 1) one
LEFT JOIN alert_fingerprints f ON f.tenant_id = $1 AND f.rule_id = $2 AND f.device_id = $3
LEFT JOIN alerts a ON a.tenant_id = $1 AND a.rule_id = $2 AND a.device_id = $3
                  AND a.status IN ('pending', 'firing')
)SQL";

std::optional<TimePoint> opt_us(const PgResult& r, int c) {
  if (r.is_null(0, c)) return std::nullopt;
  return from_epoch_us(r.int64(0, c));
}

PgParam opt_param(const std::optional<double>& v) {
  if (!v) return std::nullopt;
  return fmt::format("{}", *v);
}

PgParam opt_time_param(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return format_rfc3339_us(*t);
}

/// The most extreme value the tuple adds to the episode's peak: the max above a threshold, the
/// min below one, the crossing value for deviation (compared against the opening's mean in SQL).
double peak_candidate(const Rule& rule, const Tuple& t, const std::optional<Firing>& firing) {
  switch (rule.condition) {
    case Condition::above_threshold:
      return t.max;
    case Condition::below_threshold:
      return t.min;
    case Condition::deviation_from_mean:
      return firing ? firing->value : t.last;
    case Condition::no_data:  // never applied from a summary (RuleSet leaves it out)
      break;
  }
  return t.last;
}

std::string detail_json(std::initializer_list<std::pair<const char*, std::string>> text) {
  JsonWriter w;
  w.begin_object();
  for (const auto& [k, v] : text) w.field(k, v);
  w.end_object();
  return w.take();
}

/// The bookkeeping every tuple brings to the episode it meets: newest value and time, the peak.
void record_reading(PgConnection& db, std::int64_t tenant_id, const std::string& alert_id,
                    const EpisodeInput& in) {
  const Tuple& t = *in.tuple;
  const double candidate = peak_candidate(*in.rule, t, in.firing);
  const char* peak_expr = in.rule->condition == Condition::above_threshold
                              ? "greatest(peak_value, $5)"
                          : in.rule->condition == Condition::below_threshold
                              ? "least(peak_value, $5)"
                              : "CASE WHEN abs($5 - coalesce(mean, $5)) > "
                                "abs(peak_value - coalesce(mean, peak_value)) THEN $5 "
                                "ELSE peak_value END";
  db.exec(fmt::format("UPDATE alerts SET last_value = CASE WHEN $4::timestamptz >= last_reading_ts "
                      "THEN $3::float8 ELSE last_value END, "
                      "last_reading_ts = greatest(last_reading_ts, $4::timestamptz), "
                      "peak_value = {} WHERE tenant_id = $1 AND id = $2",
                      peak_expr),
          {std::to_string(tenant_id), alert_id, fmt::format("{}", t.last),
           format_rfc3339_us(t.last_ts), fmt::format("{}", candidate)});
}

std::string open_episode(PgConnection& db, const EpisodeInput& in, TimePoint started_at) {
  const Rule& rule = *in.rule;
  const Tuple& t = *in.tuple;
  // Only a crossing opens an episode, so the firing is there; fall back to the newest reading.
  const Firing f = in.firing.value_or(Firing{t.last, t.last_ts, std::nullopt, std::nullopt});
  auto r = db.exec(
      "INSERT INTO alerts (tenant_id, rule_id, device_id, device_key, metric, condition, "
      "threshold, value, reading_ts, mean, stddev, severity, message, status, started_at, "
      "last_value, last_reading_ts, peak_value) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', $14, $15, $16, "
      "$8) RETURNING id",
      {std::to_string(t.tenant_id), rule.id, std::to_string(t.device_id), t.device, t.metric,
       std::string(condition_name(rule.condition)), fmt::format("{}", rule.threshold),
       fmt::format("{}", f.value), format_rfc3339_us(f.reading_ts), opt_param(f.mean),
       opt_param(f.stddev), std::string(severity_name(rule.severity)),
       alert_message(rule, t.device, f.value, f.mean, f.stddev), format_rfc3339_us(started_at),
       fmt::format("{}", t.last), format_rfc3339_us(t.last_ts)});
  const std::string id(r.text(0, 0));
  append_event(db, t.tenant_id, id, "opened", "evaluator", started_at,
               detail_json({{"value", fmt::format("{}", f.value)}}));
  return id;
}

/// A transition of a flapping fingerprint: the one that starts flapping notifies
/// `flapping_started` (and publishes it); later ones only log why they are quiet.
EpisodeNotice flapping_notice(PgConnection& db, std::int64_t tenant_id, const Alert& a,
                              FlapOutcome flap, std::string_view transition,
                              const TargetsLookup& targets) {
  suppress_notification(db, tenant_id, a.id, "evaluator", transition,
                        flap == FlapOutcome::started
                            ? "the fingerprint started flapping: flapping_started instead"
                            : "the fingerprint is flapping: quiet until it settles");
  if (flap != FlapOutcome::started) {
    return {transition == "fired" ? "created" : "resolved", a};
  }
  const int seq = append_event(db, tenant_id, a.id, "flapping_started", "evaluator");
  queue_notification(db, tenant_id, a, seq, "flapping_started",
                     targets ? targets() : std::vector<DeliveryTarget>{});
  return {"flapping_started", a};
}

}  // namespace

std::vector<bool> open_fingerprints(PgConnection& db, const std::vector<FingerprintKey>& keys) {
  std::vector<bool> out(keys.size(), false);
  if (keys.empty()) return out;
  // Usually few episodes are open: all of the summary's tenants' open episodes in one short
  // index scan (alerts_one_open is partial on open episodes), matched here. Only when that is
  // more rows than keys (a tenant with very many open episodes) is each key probed instead.
  std::set<std::int64_t> tenant_set;
  for (const auto& k : keys) tenant_set.insert(k.tenant_id);
  PgArrayBuilder tenant_ids;
  for (const auto t : tenant_set) tenant_ids.add(t);
  const std::size_t cap = keys.size();
  auto open = db.exec(
      "SELECT tenant_id, rule_id, device_id FROM alerts WHERE tenant_id = ANY($1::bigint[]) "
      "AND status IN ('pending', 'firing') LIMIT $2",
      {tenant_ids.finish(), std::to_string(cap + 1)});
  if (static_cast<std::size_t>(open.rows()) <= cap) {
    std::set<std::tuple<std::int64_t, std::string_view, std::int64_t>> found;
    for (int i = 0; i < open.rows(); ++i)
      found.emplace(open.int64(i, 0), open.text(i, 1), open.int64(i, 2));
    for (std::size_t i = 0; i < keys.size(); ++i) {
      out[i] = found.contains({keys[i].tenant_id, keys[i].rule_id, keys[i].device_id});
    }
    return out;
  }
  PgArrayBuilder tenants, rules, devices;
  for (const auto& k : keys) {
    tenants.add(k.tenant_id);
    rules.add(std::string_view{k.rule_id});
    devices.add(k.device_id);
  }
  auto r = db.exec(
      "SELECT k.i FROM unnest($1::bigint[], $2::uuid[], $3::bigint[]) WITH ORDINALITY "
      "  AS k(tenant_id, rule_id, device_id, i) "
      "WHERE EXISTS (SELECT 1 FROM alerts a WHERE a.tenant_id = k.tenant_id "
      "  AND a.rule_id = k.rule_id AND a.device_id = k.device_id "
      "  AND a.status IN ('pending', 'firing'))",
      {tenants.finish(), rules.finish(), devices.finish()});
  for (int i = 0; i < r.rows(); ++i) out[static_cast<size_t>(r.int64(i, 0) - 1)] = true;
  return out;
}

TupleOutcome apply_tuple(PgConnection& db, const EpisodeInput& in, const TargetsLookup& targets) {
  const Rule& rule = *in.rule;
  const Tuple& t = *in.tuple;
  const std::string tenant = std::to_string(t.tenant_id);
  const std::string device = std::to_string(t.device_id);
  TupleOutcome out;
  PgTransaction tx(db);
  // The rule row first, then the fingerprint: a rule edit locks the row, then closes its open
  // episodes under their fingerprint locks, so the order is the same and nothing deadlocks. A
  // rule edited, disabled or deleted since this evaluator cached it is skipped: the edit has
  // closed its episodes, and the new definition is evaluated once the cache has it.
  auto current = db.exec(
      "SELECT (extract(epoch FROM updated_at) * 1000000)::bigint FROM alert_rules "
      "WHERE tenant_id = $1 AND id = $2 AND enabled FOR SHARE",
      {tenant, rule.id});
  if (current.rows() == 0 || current.int64(0, 0) != rule.updated_us) {
    out.kind = TupleOutcome::Kind::rule_stale;
    return out;
  }
  lock_fingerprint(db, rule.id, t.device_id);
  auto s = db.exec(kStateSql, {tenant, rule.id, device});
  const TimePoint db_now = from_epoch_us(s.int64(0, 0));
  FingerprintState state;
  state.seen_until = opt_us(s, 1);
  std::optional<TimePoint> last_notified = opt_us(s, 2);
  std::optional<std::string> open_id;
  if (!s.is_null(0, 3)) {
    open_id = std::string(s.text(0, 3));
    OpenEpisode ep;
    ep.status = s.text(0, 4) == "firing" ? EpisodeStatus::firing : EpisodeStatus::pending;
    ep.started_at = from_epoch_us(s.int64(0, 5));
    ep.clear_since = opt_us(s, 6);
    ep.last_reading_ts = from_epoch_us(s.int64(0, 7));
    state.open = ep;
  }
  const EpisodeStep step = step_episode(
      state, in.verdict,
      {std::chrono::minutes{rule.for_minutes}, std::chrono::minutes{rule.clear_for_minutes}});
  if (step.stale) {
    out.kind = TupleOutcome::Kind::stale;
    return out;
  }
  out.events = step.events;

  const TargetsLookup tenant_targets = read_once(targets);
  if (open_id) record_reading(db, t.tenant_id, *open_id, in);
  std::optional<TimePoint> notified_at;
  for (const EpisodeEvent& e : step.events) {
    switch (e.kind) {
      case Kind::opened:
        open_id = open_episode(db, in, e.at);
        break;
      case Kind::fired: {
        const bool notify = decide_cooldown(last_notified, db_now, rule.cooldown_minutes) ==
                            CooldownDecision::allow;
        Fired fired = fire_episode(db, t.tenant_id, *open_id, notify, rule.cooldown_minutes, e.at,
                                   tenant_targets);
        out.notices.push_back(std::move(fired.notice));
        if (fired.notified) {
          last_notified = db_now;
          notified_at = db_now;
          ++out.notified;
        } else {
          ++out.suppressed;
        }
        break;
      }
      case Kind::cancelled:
        db.exec(
            "UPDATE alerts SET status = 'cancelled', resolved_at = now(), clear_since = NULL, "
            "version = version + 1, updated_at = now() WHERE tenant_id = $1 AND id = $2",
            {tenant, *open_id});
        append_event(db, t.tenant_id, *open_id, "cancelled", "evaluator", e.at,
                     detail_json({{"reason", "a reading no longer met the condition"}}));
        open_id.reset();
        break;
      case Kind::resolved: {
        auto notice = close_episode(db, t.tenant_id, *open_id, "cleared", "evaluator", std::nullopt,
                                    tenant_targets, e.at);
        ++(notice->alert.notified ? out.notified : out.suppressed);
        out.notices.push_back(std::move(*notice));
        open_id.reset();
        break;
      }
    }
  }
  // A firing episode that stays open keeps or moves its clear period; written only on change.
  // (Compared field by field: GCC 12 at -O2 warns falsely on optional<time_point> !=.)
  bool clear_changed = false;
  if (open_id && step.open) {
    const auto& now_clear = step.open->clear_since;
    if (state.open && step.events.empty()) {
      const auto& was = state.open->clear_since;
      clear_changed =
          now_clear.has_value() != was.has_value() || (now_clear.has_value() && *now_clear != *was);
    } else {
      clear_changed = now_clear.has_value();
    }
  }
  if (clear_changed) {
    db.exec("UPDATE alerts SET clear_since = $3::timestamptz WHERE tenant_id = $1 AND id = $2",
            {tenant, *open_id, opt_time_param(step.open->clear_since)});
  }
  db.exec(
      "INSERT INTO alert_fingerprints (tenant_id, rule_id, device_id, seen_until, "
      "last_notified_at) VALUES ($1, $2, $3, $4, $5) "
      "ON CONFLICT (tenant_id, rule_id, device_id) DO UPDATE SET "
      "seen_until = greatest(alert_fingerprints.seen_until, excluded.seen_until), "
      "last_notified_at = coalesce(excluded.last_notified_at, "
      "alert_fingerprints.last_notified_at)",
      {tenant, rule.id, device, format_rfc3339_us(in.verdict.last_ts),
       opt_time_param(notified_at)});
  tx.commit();
  return out;
}

Fired fire_episode(PgConnection& db, std::int64_t tenant_id, const std::string& alert_id,
                   bool cooldown_allows, int cooldown_minutes, TimePoint data_ts,
                   const TargetsLookup& targets) {
  const std::string tenant = std::to_string(tenant_id);
  // Flapping decides first (a flapping fingerprint notifies nothing but its start and end); then
  // a silence or an inhibition holds the firing notification back (muted) until it ends.
  const FlapOutcome flap = note_transition(db, tenant_id, alert_id);
  const bool quiet = flap != FlapOutcome::normal;
  static const std::string muted_sql =
      fmt::format("SELECT {} FROM alerts a WHERE a.tenant_id = $1 AND a.id = $2", kAlertMutedSql);
  const bool muted =
      !quiet && cooldown_allows && db.exec(muted_sql, {tenant, alert_id}).boolean(0, 0);
  const bool notify = !quiet && cooldown_allows && !muted;
  db.exec(
      "UPDATE alerts SET status = 'firing', fired_at = now(), notified = $3, muted = $4, "
      "last_notified_at = CASE WHEN $3 THEN now() END, version = version + 1, "
      "updated_at = now() WHERE tenant_id = $1 AND id = $2",
      {tenant, alert_id, notify ? "true" : "false", muted ? "true" : "false"});
  const int seq = append_event(db, tenant_id, alert_id, "fired", "evaluator", data_ts, "{}");
  const Alert a = *load_alert(db, tenant_id, alert_id);
  if (quiet) return {flapping_notice(db, tenant_id, a, flap, "fired", targets), false};
  if (notify) {
    queue_notification(db, tenant_id, a, seq, "created",
                       targets ? targets() : std::vector<DeliveryTarget>{});
  } else if (muted) {
    suppress_notification(db, tenant_id, alert_id, "evaluator", "fired",
                          muted_reason(a) + "; sent once nothing mutes it");
  } else {
    suppress_notification(
        db, tenant_id, alert_id, "evaluator", "fired",
        fmt::format("inside the rule's cooldown of {} minutes since the last notification",
                    cooldown_minutes));
  }
  return {{"created", a}, notify};
}

std::optional<EpisodeNotice> close_episode(PgConnection& db, std::int64_t tenant_id,
                                           const std::string& alert_id, std::string_view reason,
                                           std::string_view actor,
                                           std::optional<std::string_view> comment,
                                           const TargetsLookup& targets,
                                           std::optional<TimePoint> data_ts) {
  auto r = db.exec(
      "UPDATE alerts SET status = 'resolved', resolved_at = now(), resolve_reason = $3, "
      "clear_since = NULL, version = version + 1, updated_at = now() "
      "WHERE tenant_id = $1 AND id = $2 AND status IN ('pending', 'firing') RETURNING notified",
      {std::to_string(tenant_id), alert_id, std::string(reason)});
  if (r.rows() == 0) return std::nullopt;
  JsonWriter w;
  w.begin_object().field("reason", reason);
  if (comment) w.field("comment", *comment);
  w.end_object();
  const int seq = append_event(db, tenant_id, alert_id, "resolved", actor, data_ts, w.str());
  // Clearing is a change of state flapping counts; a person's or a rule edit's resolve is not.
  const FlapOutcome flap =
      reason == "cleared" ? note_transition(db, tenant_id, alert_id) : FlapOutcome::normal;
  const Alert a = *load_alert(db, tenant_id, alert_id);
  if (flap != FlapOutcome::normal)
    return flapping_notice(db, tenant_id, a, flap, "resolved", targets);
  if (a.notified) {
    queue_notification(db, tenant_id, a, seq, "resolved",
                       targets ? targets() : std::vector<DeliveryTarget>{});
  } else {
    suppress_notification(db, tenant_id, alert_id, actor, "resolved",
                          "its firing was not notified");
  }
  return EpisodeNotice{"resolved", a};
}

std::vector<EpisodeNotice> close_rule_episodes(PgConnection& db, std::int64_t tenant_id,
                                               const std::string& rule_id, std::string_view reason,
                                               std::string_view actor,
                                               const TargetsLookup& targets) {
  auto open = db.exec(
      "SELECT id, device_id FROM alerts WHERE tenant_id = $1 AND rule_id = $2 "
      "AND status IN ('pending', 'firing') ORDER BY device_id",
      {std::to_string(tenant_id), rule_id});
  std::vector<EpisodeNotice> out;
  const TargetsLookup once = read_once(targets);
  for (int i = 0; i < open.rows(); ++i) {
    lock_fingerprint(db, rule_id, open.int64(i, 1));
    if (auto n = close_episode(db, tenant_id, std::string(open.text(i, 0)), reason, actor,
                               std::nullopt, once)) {
      out.push_back(std::move(*n));
    }
  }
  return out;
}

}  // namespace ste::eval
