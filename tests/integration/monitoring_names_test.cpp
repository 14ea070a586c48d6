// The monitoring files name only metrics the services export: every metric in an expression of
// deploy/prometheus/ste-rules.yml or deploy/grafana/ste-dashboard.json is on the /metrics of a
// running ste-ingester or ste-evaluator. prometheus-cpp leaves out a labelled family until it has
// a child, so the pipeline first does what makes every metric exist in a real deployment: a valid
// reading stored, an invalid one rejected, an alert fired by a rule and its webhook attempted.
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/pipeline_fixture.hpp"
#include "tests/integration/webhook_receiver.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

const std::string kRulesFile = std::string(STE_SOURCE_DIR) + "/deploy/prometheus/ste-rules.yml";
const std::string kDashboardFile =
    std::string(STE_SOURCE_DIR) + "/deploy/grafana/ste-dashboard.json";

/// A metric an expression names: `name` as written, `exported` the family that exports it (the
/// histogram for its _bucket, _sum and _count series).
struct MetricRef {
  std::string name;
  std::string exported;
  bool histogram_series = false;
  bool operator<(const MetricRef& o) const { return name < o.name; }
};

/// The engine's metric names in one PromQL expression: identifiers starting with `ste_` or
/// `process_`. String literals (label values) are skipped, and so are recording rules (names with
/// ':') and everything else (`up`, functions, labels).
std::set<MetricRef> metric_names(const std::string& expr) {
  static const std::regex strings(R"("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)");
  static const std::regex identifier(R"([A-Za-z_:][A-Za-z0-9_:]*)");
  static const std::regex engine_metric(R"((ste_|process_)[a-z0-9_]+)");
  const std::string code = std::regex_replace(expr, strings, " ");
  std::set<MetricRef> out;
  for (auto it = std::sregex_iterator(code.begin(), code.end(), identifier);
       it != std::sregex_iterator(); ++it) {
    const std::string id = it->str();
    if (!std::regex_match(id, engine_metric)) continue;
    MetricRef ref{id, id, false};
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (id.size() > suffix.size() &&
          id.compare(id.size() - suffix.size(), suffix.size(), suffix) == 0) {
        ref.exported = id.substr(0, id.size() - suffix.size());
        ref.histogram_series = true;
      }
    }
    out.insert(ref);
  }
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

/// The `expr:` values of a rules file: plain or quoted one-line scalars and `|` / `>` blocks
/// (every following line indented deeper than the key).
std::vector<std::string> rule_expressions(const std::string& yaml) {
  static const std::regex key(R"(^(\s*)(?:-\s+)?expr:\s*(.*)$)");
  std::vector<std::string> lines;
  std::istringstream in(yaml);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::vector<std::string> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(lines[i], m, key)) continue;
    const size_t indent = static_cast<size_t>(m.length(1));
    std::string value = trim(m.str(2));
    if (!value.empty() && (value[0] == '|' || value[0] == '>')) {
      value.clear();
      while (i + 1 < lines.size()) {
        const std::string& next = lines[i + 1];
        const auto first = next.find_first_not_of(" \t");
        if (first != std::string::npos && first <= indent) break;
        value += next + "\n";
        ++i;
      }
    } else if (value.size() >= 2 && (value[0] == '"' || value[0] == '\'')) {
      // A quoted scalar: its content (escapes are kept; they cannot form a metric name).
      value = value.substr(1, value.size() - 2);
    }
    out.push_back(value);
  }
  return out;
}

/// Every string under the keys "expr", "query" and "definition" of a dashboard (the panels'
/// queries and the template variables').
void dashboard_expressions(simdjson::dom::element e, std::vector<std::string>& out) {
  if (e.is_array()) {
    for (auto child : e.get_array()) dashboard_expressions(child, out);
  } else if (e.is_object()) {
    for (auto field : e.get_object()) {
      const std::string_view k = field.key;
      if ((k == "expr" || k == "query" || k == "definition") && field.value.is_string()) {
        out.emplace_back(std::string_view(field.value));
      } else {
        dashboard_expressions(field.value, out);
      }
    }
  }
}

std::vector<std::string> dashboard_expressions(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const auto error = parser.parse(json).get(root);
  INFO("dashboard JSON: " << simdjson::error_message(error));
  REQUIRE(error == simdjson::SUCCESS);
  std::vector<std::string> out;
  dashboard_expressions(root, out);
  return out;
}

/// Metric names of all expressions, with the file each came from for failure messages.
std::map<MetricRef, std::string> names_in(const std::vector<std::string>& exprs,
                                          const std::string& file) {
  std::map<MetricRef, std::string> out;
  for (const auto& e : exprs) {
    for (const auto& n : metric_names(e)) out.emplace(n, file);
  }
  return out;
}

/// True when the Prometheus text `body` exports `ref`: a `# TYPE` line of its family (a histogram
/// for a _bucket/_sum/_count series), or a sample of it.
bool exports(const std::string& body, const MetricRef& ref) {
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (ref.histogram_series) {
      if (line == "# TYPE " + ref.exported + " histogram") return true;
      continue;
    }
    if (line.rfind("# TYPE " + ref.name + " ", 0) == 0) return true;
    if (line.rfind(ref.name + " ", 0) == 0 || line.rfind(ref.name + "{", 0) == 0) return true;
  }
  return false;
}

/// Recording rules a file defines (`record:` names).
std::set<std::string> recorded_names(const std::string& yaml) {
  static const std::regex record(R"(^\s*(?:-\s+)?record:\s*([A-Za-z0-9_:]+)\s*$)");
  std::set<std::string> out;
  std::istringstream in(yaml);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, record)) out.insert(m.str(1));
  }
  return out;
}

}  // namespace

TEST_CASE("Metric names are read from expressions: histogram series, recording rules, labels",
          "[monitoring]") {
  auto names = [](const std::string& e) {
    std::vector<std::string> out;
    for (const auto& n : metric_names(e)) out.push_back(n.name + "->" + n.exported);
    return out;
  };
  CHECK(names("histogram_quantile(0.99, sum by (le) "
              "(rate(ste_ingest_batch_seconds_bucket{instance=~\"$instance\"}[5m])))") ==
        std::vector<std::string>{"ste_ingest_batch_seconds_bucket->ste_ingest_batch_seconds"});
  CHECK(names("sum by (job) (ste:ingest_readings_stored:rate5m) > 0 and up{job=\"ste_x\"} == 1")
            .empty());
  CHECK(names("time() - process_start_time_seconds{job=~'ste-ingester'} + ste_eval_rules") ==
        std::vector<std::string>{"process_start_time_seconds->process_start_time_seconds",
                                 "ste_eval_rules->ste_eval_rules"});
  CHECK(
      rule_expressions("  - record: a:b\n    expr: sum(ste_a_total)\n  - alert: X\n"
                       "    expr: |\n      ste_b > 1\n      and\n      ste_c > 2\n    for: 5m\n") ==
      std::vector<std::string>{"sum(ste_a_total)",
                               "      ste_b > 1\n      and\n      ste_c > 2\n"});
}

TEST_CASE("The rules and the dashboard name metrics and recording rules that exist",
          "[monitoring]") {
  const std::string rules = read_file(kRulesFile);
  const std::string dashboard = read_file(kDashboardFile);
  REQUIRE(!rules.empty());
  REQUIRE(!dashboard.empty());
  const auto rule_exprs = rule_expressions(rules);
  const auto dash_exprs = dashboard_expressions(dashboard);
  // Not vacuous: both files hold many expressions naming the engine's metrics.
  CHECK(rule_exprs.size() >= 20);
  CHECK(dash_exprs.size() >= 20);
  CHECK(names_in(rule_exprs, kRulesFile).size() >= 10);
  CHECK(names_in(dash_exprs, kDashboardFile).size() >= 10);

  // Every recording rule the dashboard queries is defined in the rules file.
  const auto recorded = recorded_names(rules);
  static const std::regex recording(R"(\bste:[A-Za-z0-9_:]+)");
  for (const auto& e : dash_exprs) {
    for (auto it = std::sregex_iterator(e.begin(), e.end(), recording);
         it != std::sregex_iterator(); ++it) {
      INFO("dashboard query: " << e);
      CHECK(recorded.count(it->str()) == 1);
    }
  }
}

TEST_CASE("Every metric the rules and the dashboard name is exported by a running service",
          "[monitoring]") {
  std::map<MetricRef, std::string> wanted =
      names_in(rule_expressions(read_file(kRulesFile)), kRulesFile);
  for (auto& [ref, file] :
       names_in(dashboard_expressions(read_file(kDashboardFile)), kDashboardFile)) {
    wanted.emplace(ref, file);
  }
  REQUIRE(wanted.size() >= 10);

  WebhookReceiver rx;
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature");
  p.start_ingester();
  p.start_evaluator("a", {{"STE_WORKFLOW_ENGINE_URL", rx.url("/wf")}});
  const int evaluator_port = p.evaluators.at("a").port;

  // A reading stored that fires the rule (an alert, an outbox row, a webhook attempt), and a
  // message rejected.
  p.publish("sensors.acme.boiler-1", now_reading("temperature", 93));
  p.publish("sensors.acme.boiler-1", R"({"metric":"temperature","value":)");

  std::vector<std::string> missing;
  const bool all_exported = eventually(
      [&] {
        const HttpAnswer ingester = http_get(p.ingester_port, "/metrics");
        const HttpAnswer evaluator = http_get(evaluator_port, "/metrics");
        missing.clear();
        if (ingester.status != 200 || evaluator.status != 200) {
          missing.push_back("(a /metrics did not answer 200)");
          return false;
        }
        for (const auto& [ref, file] : wanted) {
          if (!exports(ingester.body, ref) && !exports(evaluator.body, ref)) {
            missing.push_back(ref.name + " (" + file + ")");
          }
        }
        return missing.empty();
      },
      30s, 200ms);
  std::string list;
  for (const auto& m : missing) list += "\n  " + m;
  INFO("named in the monitoring files but exported by neither service:" << list);
  INFO("ingester log:\n" << log_tail(p.ingester_log(), 3000));
  INFO("evaluator log:\n" << log_tail(p.evaluators.at("a").log, 3000));
  CHECK(all_exported);
  // What the test did happened (so the families it made exist are the real ones).
  CHECK(rx.count() >= 1);
  CHECK(p.alerts() >= 1);
}
