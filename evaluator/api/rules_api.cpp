// /api/rules: create, list, read, replace, delete. Every statement is scoped by tenant_id, so
// another tenant's rule id behaves exactly like one that does not exist (404).
#include <fmt/format.h>

#include "common/json_writer.hpp"
#include "common/pg_transaction.hpp"
#include "evaluator/alerts/episode_store.hpp"
#include "evaluator/api/api_handlers.hpp"
#include "evaluator/api/query_parsing.hpp"
#include "evaluator/api/request_parsing.hpp"

namespace ste::api {

namespace {
constexpr const char* kRuleColumns =
    "id, name, metric, device_key, condition, threshold, window_minutes, cooldown_minutes, "
    "severity, "
    "enabled, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "for_minutes, clear_threshold, clear_for_minutes, renotify_minutes, silent_minutes, "
    "flap_changes, flap_window_minutes";

/// A nullable number or integer column as JSON.
void nullable_field(JsonWriter& w, const char* name, const PgResult& r, int i, int c,
                    bool integer) {
  w.key(name);
  if (r.is_null(i, c)) {
    w.null();
  } else if (integer) {
    w.value(r.int64(i, c));
  } else {
    w.value(r.float8(i, c));
  }
}

void write_rule(JsonWriter& w, const PgResult& r, int i) {
  w.begin_object();
  w.field("id", r.text(i, 0));
  w.field("name", r.text(i, 1));
  w.field("metric", r.text(i, 2));
  w.key("device");
  if (r.is_null(i, 3)) {
    w.null();
  } else {
    w.value(r.text(i, 3));
  }
  w.field("condition", r.text(i, 4));
  nullable_field(w, "threshold", r, i, 5, false);
  w.field("window_minutes", r.int64(i, 6));
  w.field("cooldown_minutes", r.int64(i, 7));
  w.field("severity", r.text(i, 8));
  w.field("enabled", r.boolean(i, 9));
  w.field("for_minutes", r.int64(i, 12));
  nullable_field(w, "clear_threshold", r, i, 13, false);
  w.field("clear_for_minutes", r.int64(i, 14));
  w.field("renotify_minutes", r.int64(i, 15));
  nullable_field(w, "silent_minutes", r, i, 16, true);
  w.field("flap_changes", r.int64(i, 17));
  w.field("flap_window_minutes", r.int64(i, 18));
  w.field("created_at", r.text(i, 10));
  w.field("updated_at", r.text(i, 11));
  w.end_object();
}

std::string rule_json(const PgResult& r) {
  JsonWriter w;
  write_rule(w, r, 0);
  return w.take();
}

std::vector<PgParam> rule_params(const RuleInput& in) {
  return {in.name,
          in.metric,
          in.device,
          std::string(eval::condition_name(in.condition)),
          in.condition == eval::Condition::no_data ? PgParam()
                                                   : PgParam(fmt::format("{}", in.threshold)),
          std::to_string(in.window_minutes),
          std::to_string(in.cooldown_minutes),
          std::string(eval::severity_name(in.severity)),
          in.enabled ? "true" : "false",
          std::to_string(in.for_minutes),
          in.clear_threshold ? PgParam(fmt::format("{}", *in.clear_threshold)) : PgParam(),
          std::to_string(in.clear_for_minutes),
          std::to_string(in.renotify_minutes),
          in.silent_minutes ? PgParam(std::to_string(*in.silent_minutes)) : PgParam(),
          std::to_string(in.flap_changes),
          std::to_string(in.flap_window_minutes)};
}

/// Why an edit closes the rule's open episodes (docs/ALERTING.md §1), nullopt when it does not:
/// disabling closes them as rule_disabled; changing what the rule watches or when it fires
/// (metric, device, condition, threshold, clear_threshold, window, silent_minutes) as
/// rule_changed, and new episodes start from the new definition. Name, severity, cooldown and
/// the for/clear/renotify periods apply to what comes next and leave open episodes alone. `old`
/// is the row before the edit: metric, device_key, condition, threshold, clear_threshold,
/// window_minutes, enabled, silent_minutes.
std::optional<std::string> closing_reason(const PgResult& old, const RuleInput& in) {
  if (old.boolean(0, 6) && !in.enabled) return "rule_disabled";
  // Compared by parts: GCC 12 at -O2 warns falsely on optional<double> != optional<double>.
  const bool clear_changed = old.is_null(0, 4)
                                 ? in.clear_threshold.has_value()
                                 : !in.clear_threshold || *in.clear_threshold != old.float8(0, 4);
  const bool threshold_changed = old.is_null(0, 3) ? in.condition != eval::Condition::no_data
                                                   : old.float8(0, 3) != in.threshold;
  const bool silence_changed = old.is_null(0, 7)
                                   ? in.silent_minutes.has_value()
                                   : !in.silent_minutes || *in.silent_minutes != old.int64(0, 7);
  const bool changed = old.text(0, 0) != in.metric || old.opt_text(0, 1) != in.device ||
                       old.text(0, 2) != eval::condition_name(in.condition) || threshold_changed ||
                       clear_changed || silence_changed || old.int64(0, 5) != in.window_minutes;
  if (changed) return "rule_changed";
  return std::nullopt;
}

void rule_not_found(httplib::Response& res, const std::string& id) {
  send_error(res, not_found("no rule with id '" + id + "'"));
}
}  // namespace

void register_rule_routes(httplib::Server& s, PgPool& pool, int max_rules_per_tenant,
                          const EpisodeEffects& effects) {
  s.Get("/api/rules",
        tenant_endpoint(pool, [](const auto&, auto& res, const Tenant& t, PgConnection& db) {
          auto r = db.exec(
              fmt::format("SELECT {} FROM alert_rules WHERE tenant_id = $1 ORDER BY created_at, id",
                          kRuleColumns),
              {std::to_string(t.id)});
          JsonWriter w;
          w.begin_object().key("rules").begin_array();
          for (int i = 0; i < r.rows(); ++i) write_rule(w, r, i);
          w.end_array().end_object();
          send_json(res, 200, w.take());
        }));

  s.Post(
      "/api/rules",
      tenant_endpoint(pool, [max_rules_per_tenant](const auto& req, auto& res, const Tenant& t,
                                                   PgConnection& db) {
        auto parsed = parse_rule_body(req.body);
        if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
        auto params = rule_params(std::get<RuleInput>(parsed));
        params.insert(params.begin(), std::to_string(t.id));
        // The tenant row's lock serialises concurrent creates, so the count cannot be overtaken.
        PgTransaction tx(db);
        db.exec("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE", {std::to_string(t.id)});
        const auto existing =
            db.exec("SELECT count(*) FROM alert_rules WHERE tenant_id = $1", {std::to_string(t.id)})
                .int64(0, 0);
        if (existing >= max_rules_per_tenant) {
          return send_error(res, {409, "limit_reached",
                                  fmt::format("the tenant already has {} rules, the most allowed "
                                              "(STE_MAX_RULES_PER_TENANT); delete one first",
                                              existing)});
        }
        auto r = db.exec(
            fmt::format(
                "INSERT INTO alert_rules (tenant_id, name, metric, device_key, condition, "
                "threshold, window_minutes, cooldown_minutes, severity, enabled, for_minutes, "
                "clear_threshold, clear_for_minutes, renotify_minutes, silent_minutes, "
                "flap_changes, flap_window_minutes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                "$10, $11, $12, $13, $14, $15, $16, $17) "
                "RETURNING {}",
                kRuleColumns),
            params);
        tx.commit();
        send_json(res, 201, rule_json(r));
      }));

  s.Get(R"(/api/rules/([^/]+))",
        tenant_endpoint(pool, [](const auto& req, auto& res, const Tenant& t, PgConnection& db) {
          const std::string id = req.matches[1];
          if (!is_uuid(id)) return rule_not_found(res, id);
          auto r =
              db.exec(fmt::format("SELECT {} FROM alert_rules WHERE tenant_id = $1 AND id = $2",
                                  kRuleColumns),
                      {std::to_string(t.id), id});
          if (r.rows() == 0) return rule_not_found(res, id);
          send_json(res, 200, rule_json(r));
        }));

  s.Put(R"(/api/rules/([^/]+))",
        tenant_endpoint(pool, [&effects](const auto& req, auto& res, const Tenant& t,
                                         PgConnection& db) {
          const std::string id = req.matches[1];
          if (!is_uuid(id)) return rule_not_found(res, id);
          // The rule row is locked first, then each open episode's fingerprint: the evaluator
          // takes them in the same order (episode_store.cpp), so an edit and an evaluation of
          // the same rule serialise instead of deadlocking.
          PgTransaction tx(db);
          auto old = db.exec(
              "SELECT metric, device_key, condition, threshold, clear_threshold, window_minutes, "
              "enabled, silent_minutes FROM alert_rules WHERE tenant_id = $1 AND id = $2 "
              "FOR UPDATE",
              {std::to_string(t.id), id});
          // Existence (in this tenant) is checked before the body is validated.
          if (old.rows() == 0) return rule_not_found(res, id);
          auto parsed = parse_rule_body(req.body);
          if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
          const RuleInput& in = std::get<RuleInput>(parsed);
          auto params = rule_params(in);
          params.insert(params.begin(), {std::to_string(t.id), id});
          auto r = db.exec(
              fmt::format(
                  "UPDATE alert_rules SET name = $3, metric = $4, device_key = $5, condition = $6, "
                  "threshold = $7, window_minutes = $8, cooldown_minutes = $9, severity = $10, "
                  "enabled = $11, for_minutes = $12, clear_threshold = $13, "
                  "clear_for_minutes = $14, renotify_minutes = $15, silent_minutes = $16, "
                  "flap_changes = $17, flap_window_minutes = $18, updated_at = now() "
                  "WHERE tenant_id = $1 AND id = $2 RETURNING {}",
                  kRuleColumns),
              params);
          std::vector<eval::EpisodeNotice> notices;
          if (auto reason = closing_reason(old, in)) {
            notices = eval::close_rule_episodes(db, t.id, id, *reason, t.key_name,
                                                [&] { return effects.targets(db, t.id); });
          }
          tx.commit();
          effects.published(notices);
          send_json(res, 200, rule_json(r));
        }));

  s.Delete(R"(/api/rules/([^/]+))",
           tenant_endpoint(pool, [&effects](const auto& req, auto& res, const Tenant& t,
                                            PgConnection& db) {
             const std::string id = req.matches[1];
             if (!is_uuid(id)) return rule_not_found(res, id);
             PgTransaction tx(db);
             auto r = db.exec("DELETE FROM alert_rules WHERE tenant_id = $1 AND id = $2",
                              {std::to_string(t.id), id});
             if (r.affected() == 0) return rule_not_found(res, id);
             auto notices = eval::close_rule_episodes(db, t.id, id, "rule_deleted", t.key_name,
                                                      [&] { return effects.targets(db, t.id); });
             tx.commit();
             effects.published(notices);
             res.status = 204;
           }));
}

}  // namespace ste::api
