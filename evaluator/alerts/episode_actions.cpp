#include "evaluator/alerts/episode_actions.hpp"

#include <fmt/format.h>

#include "common/json_writer.hpp"
#include "common/pg_transaction.hpp"
#include "evaluator/alerts/alert_row.hpp"

namespace ste::eval {

namespace {

bool is_open(EpisodeStatus s) { return s == EpisodeStatus::pending || s == EpisodeStatus::firing; }

std::string_view verb(AlertAction action) {
  switch (action) {
    case AlertAction::ack:
      return "acknowledged";
    case AlertAction::unack:
      return "un-acknowledged";
    case AlertAction::comment:
      return "commented on";
    case AlertAction::resolve:
      return "resolved";
  }
  return "changed";
}

/// `{"<key>": text or null}`.
std::string text_detail(std::string_view key, const std::optional<std::string>& text) {
  JsonWriter w;
  w.begin_object().field(key, text).end_object();
  return w.take();
}

void acknowledge(PgConnection& db, const ActionRequest& rq, const TargetsLookup& targets,
                 ActionResult& out) {
  db.exec(
      "UPDATE alerts SET acked_at = now(), acked_by = $3, ack_comment = $4, "
      "version = version + 1, updated_at = now() WHERE tenant_id = $1 AND id = $2",
      {std::to_string(rq.tenant_id), rq.alert_id, rq.actor, rq.text});
  const int seq = append_event(db, rq.tenant_id, rq.alert_id, "acked", rq.actor, std::nullopt,
                               text_detail("comment", rq.text));
  const Alert a = *load_alert(db, rq.tenant_id, rq.alert_id);
  if (a.notified) {
    queue_notification(db, rq.tenant_id, a, seq, "acknowledged",
                       targets ? targets() : std::vector<DeliveryTarget>{});
  } else {
    // As for a resolution: an episode whose firing nobody was told of is not acknowledged to
    // anybody either; the timeline says why.
    suppress_notification(db, rq.tenant_id, rq.alert_id, rq.actor, "acknowledged",
                          "its firing was not notified");
  }
  out.notice = EpisodeNotice{"acknowledged", a};
  out.alert = a;
}

void unacknowledge(PgConnection& db, const ActionRequest& rq, const Alert& before,
                   ActionResult& out) {
  db.exec(
      "UPDATE alerts SET acked_at = NULL, acked_by = NULL, ack_comment = NULL, "
      "version = version + 1, updated_at = now() WHERE tenant_id = $1 AND id = $2",
      {std::to_string(rq.tenant_id), rq.alert_id});
  append_event(db, rq.tenant_id, rq.alert_id, "unacked", rq.actor, std::nullopt,
               text_detail("was_acked_by", before.acked_by));
  out.alert = *load_alert(db, rq.tenant_id, rq.alert_id);
}

void comment(PgConnection& db, const ActionRequest& rq, const Alert& before, ActionResult& out) {
  // A comment is timeline only: the alert object, and so its version, do not change.
  const int seq = append_event(db, rq.tenant_id, rq.alert_id, "comment", rq.actor, std::nullopt,
                               text_detail("text", rq.text));
  out.entry = load_timeline_entry(db, rq.tenant_id, rq.alert_id, seq);
  out.alert = before;
}

bool resolve(PgConnection& db, const ActionRequest& rq, const TargetsLookup& targets,
             ActionResult& out) {
  std::optional<std::string_view> text;
  if (rq.text) text = *rq.text;
  auto notice = close_episode(db, rq.tenant_id, rq.alert_id, "manual", rq.actor, text, targets);
  if (!notice) return false;  // not open: cannot happen under the lock after decide_action()
  out.alert = notice->alert;
  out.notice = std::move(notice);
  return true;
}

}  // namespace

ActionVerdict decide_action(AlertAction action, EpisodeStatus status, bool acked) {
  switch (action) {
    case AlertAction::ack:
      if (status != EpisodeStatus::firing) return ActionVerdict::refused;
      return acked ? ActionVerdict::unchanged : ActionVerdict::apply;
    case AlertAction::unack:
      if (status != EpisodeStatus::firing) return ActionVerdict::refused;
      return acked ? ActionVerdict::apply : ActionVerdict::unchanged;
    case AlertAction::comment:
      return ActionVerdict::apply;
    case AlertAction::resolve:
      return is_open(status) ? ActionVerdict::apply : ActionVerdict::refused;
  }
  return ActionVerdict::refused;
}

std::string refusal_reason(AlertAction action, EpisodeStatus status) {
  const std::string_view state = episode_status_name(status);
  const std::string_view only =
      action == AlertAction::resolve ? "a pending or firing alert" : "a firing alert";
  if (status == EpisodeStatus::pending) {
    return fmt::format("the alert is not firing yet (pending); only {} can be {}", only,
                       verb(action));
  }
  return fmt::format("the alert is {}; only {} can be {}", state, only, verb(action));
}

std::optional<std::string> version_conflict(std::optional<int> expected, int current) {
  if (!expected || *expected == current) return std::nullopt;
  return fmt::format("the alert is at version {}, not {} (If-Match); read it again and decide anew",
                     current, *expected);
}

ActionResult perform_action(PgConnection& db, AlertAction action, const ActionRequest& rq,
                            const TargetsLookup& targets) {
  ActionResult out;
  const std::string tenant = std::to_string(rq.tenant_id);
  PgTransaction tx(db);
  auto fp = db.exec("SELECT rule_id, device_id FROM alerts WHERE tenant_id = $1 AND id = $2",
                    {tenant, rq.alert_id});
  if (fp.rows() == 0) return out;
  lock_fingerprint(db, std::string(fp.text(0, 0)), fp.int64(0, 1));
  // Read again under the lock: everything decided below is decided on the state no other
  // transition can change until the commit. (The retention pruner may have deleted it meanwhile.)
  const auto current = load_alert(db, rq.tenant_id, rq.alert_id);
  if (!current) return out;
  out.alert = current;
  if (auto conflict = version_conflict(rq.expected_version, current->version)) {
    out.kind = ActionResult::Kind::version_mismatch;
    out.reason = std::move(*conflict);
    return out;
  }
  switch (decide_action(action, current->status, current->acked_at.has_value())) {
    case ActionVerdict::refused:
      out.kind = ActionResult::Kind::refused;
      out.reason = refusal_reason(action, current->status);
      return out;
    case ActionVerdict::unchanged:
      out.kind = ActionResult::Kind::unchanged;
      return out;
    case ActionVerdict::apply:
      break;
  }
  switch (action) {
    case AlertAction::ack:
      acknowledge(db, rq, targets, out);
      break;
    case AlertAction::unack:
      unacknowledge(db, rq, *current, out);
      break;
    case AlertAction::comment:
      comment(db, rq, *current, out);
      break;
    case AlertAction::resolve:
      if (!resolve(db, rq, targets, out)) {
        out.kind = ActionResult::Kind::refused;
        out.reason = refusal_reason(action, current->status);
        return out;
      }
      break;
  }
  tx.commit();
  out.kind = ActionResult::Kind::applied;
  return out;
}

}  // namespace ste::eval
