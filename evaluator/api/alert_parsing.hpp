#pragma once
/// Parsing for the alert endpoints (docs/ALERTING.md §2, §7): the bodies of the actions
/// (ack, comment, resolve), the If-Match header, and the filters and sort of GET /api/alerts.
/// Pure: values in, a typed result or an ApiError naming the field, header or parameter out.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evaluator/alerts/episode_machine.hpp"
#include "evaluator/api/api_error.hpp"
#include "evaluator/evaluation/rule.hpp"

namespace ste::api {

/// The most characters of an ack comment, a resolve comment or a timeline comment.
inline constexpr std::size_t kMaxCommentChars = 1000;

/// POST /api/alerts/{id}/ack and /resolve: `{"comment": "..."}`, the field optional (null or ""
/// = no comment), else 1..1000 characters without control characters. An empty body (or only
/// whitespace) is the same as `{}`.
Parsed<std::optional<std::string>> parse_optional_comment_body(std::string_view body);

/// POST /api/alerts/{id}/comments: `{"text": "..."}`, required, 1..1000 characters without
/// control characters.
Parsed<std::string> parse_comment_body(std::string_view body);

/// If-Match: absent or `*` -> nullopt (any version); otherwise one version, bare or quoted as
/// the ETag gives it (`7` or `"7"`). Anything else: 422 `invalid_header` naming If-Match.
Parsed<std::optional<int>> parse_if_match(const std::optional<std::string>& header);

/// The ETag of an alert at `version`: `"7"`.
std::string alert_etag(int version);

enum class AlertSort {
  created,   ///< newest first (created_at, id descending)
  severity,  ///< critical, warning, info; unacknowledged first; then oldest first
};

/// The filters and order of GET /api/alerts beyond device, metric, rule_id, since and until.
struct AlertListFilter {
  std::vector<eval::EpisodeStatus> statuses;  ///< empty = any
  std::optional<bool> acked;
  std::vector<eval::Severity> severities;  ///< empty = any
  AlertSort sort = AlertSort::created;
};

/// `status`: comma list of pending, firing, resolved, cancelled, open (= pending,firing).
Parsed<std::vector<eval::EpisodeStatus>> parse_status_filter(const std::optional<std::string>& v);
/// `acked`: true or false.
Parsed<std::optional<bool>> parse_acked_filter(const std::optional<std::string>& v);
/// `severity`: comma list of info, warning, critical.
Parsed<std::vector<eval::Severity>> parse_severity_filter(const std::optional<std::string>& v);
/// `sort`: created (default) or severity.
Parsed<AlertSort> parse_alert_sort(const std::optional<std::string>& v);

/// The place of a severity in sort=severity order: critical 0, warning 1, info 2.
int severity_rank(eval::Severity s);

}  // namespace ste::api
