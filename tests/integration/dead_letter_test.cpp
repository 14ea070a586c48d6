// Poison summaries end (#12 item 4), with the real evaluator, nats-server and PostgreSQL: a
// summary that can never be evaluated is moved to ste.dead.STE_BATCHES with its reason and
// counted, and is not redelivered again; one that fails only because the database is away is
// never dead-lettered and fires its alert once the database is back.
#include "common/dead_letter.hpp"

#include <fmt/format.h>

#include <memory>

#include "ingester/batch_summary.hpp"
#include "tests/integration/pipeline_fixture.hpp"

using namespace ste;
using namespace ste::test;
using namespace std::chrono_literals;

namespace {

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

/// The dead letter stored under stream sequence `seq` of STE_DEAD (null when there is none).
MsgPtr dead_letter_at(Pipeline& p, std::uint64_t seq) {
  natsMsg* m = nullptr;
  if (js_GetMsg(&m, p.client->js(), kDeadStream.name.c_str(), seq, nullptr, nullptr) != NATS_OK)
    return nullptr;
  return MsgPtr(m);
}

std::string header(natsMsg* m, const char* key) {
  const char* v = nullptr;
  return natsMsgHeader_Get(m, key, &v) == NATS_OK && v ? v : "";
}

std::string data(natsMsg* m) {
  return {natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m))};
}

/// A summary of one reading of `metric` = `value` for `device` of the pipeline's tenant.
std::string summary_json(const Pipeline& p, const std::string& batch_id, const std::string& device,
                         std::int64_t device_id, const std::string& metric, double value) {
  const TimePoint ts =
      std::chrono::time_point_cast<std::chrono::milliseconds>(SysClock::now() - 1s);
  BatchSummary s;
  s.batch_id = batch_id;
  s.flushed_at = SysClock::now();
  s.readings = 1;
  SummaryTuple t;
  t.tenant_id = p.tenant_id;
  t.device_id = device_id;
  t.tenant = p.tenant;
  t.device = device;
  t.metric = metric;
  t.last = t.min = t.max = value;
  t.last_ts = t.min_ts = t.max_ts = ts;
  t.count = 1;
  s.tuples.push_back(t);
  return ingest::summary_to_json(s);
}

/// The evaluator's consumer has nothing left: no message pending, none waiting for an ack.
bool consumer_idle(Pipeline& p) {
  jsConsumerInfo* ci = nullptr;
  if (js_GetConsumerInfo(&ci, p.client->js(), "STE_BATCHES", "ste-evaluator", nullptr, nullptr) !=
      NATS_OK)
    return false;
  const bool idle = ci->NumPending == 0 && ci->NumAckPending == 0;
  jsConsumerInfo_Destroy(ci);
  return idle;
}

const std::string kDeadUndecodable =
    R"(ste_dead_lettered_total{reason="undecodable",stream="STE_BATCHES"})";
const std::string kDeadFailed =
    R"(ste_dead_lettered_total{reason="evaluation_failed",stream="STE_BATCHES"})";

}  // namespace

TEST_CASE("An undecodable summary is dead-lettered at once with its reason, and not redelivered",
          "[dead_letter]") {
  Pipeline p;
  p.start_evaluator("a", {{"STE_MAX_DELIVERIES", "3"}});
  const std::string body = R"({"batch_id": "b-1", "tuples": [ not json)";
  p.client->js_publish(kBatchesSubject, body);

  REQUIRE(eventually([&] { return p.stream_messages("STE_DEAD") == 1; }, 20s, 50ms));
  auto dead = dead_letter_at(p, 1);
  REQUIRE(dead);
  CHECK(std::string(natsMsg_GetSubject(dead.get())) == "ste.dead.STE_BATCHES");
  CHECK(data(dead.get()) == body);  // byte for byte: replayable
  CHECK(header(dead.get(), kDeadReasonHeader) == "undecodable");
  CHECK(header(dead.get(), kDeadDetailHeader) == "summary is not valid JSON");
  CHECK(header(dead.get(), kDeadSubjectHeader) == "ste.batches.flushed");
  CHECK(header(dead.get(), kDeadStreamHeader) == "STE_BATCHES");
  CHECK(header(dead.get(), kDeadSequenceHeader) == "1");
  CHECK(header(dead.get(), kDeadDeliveriesHeader) == "1");  // no retry for what cannot decode

  // Terminated: gone from the work queue, so there is nothing left to redeliver.
  REQUIRE(eventually([&] { return p.stream_messages("STE_BATCHES") == 0 && consumer_idle(p); }, 10s,
                     50ms));
  CHECK(p.evaluator_metric("a", kDeadUndecodable) == 1);
  CHECK(p.evaluator_metric("a", R"(ste_eval_errors_total{kind="bad_summary"})") == 1);
  CHECK(p.evaluator_metric("a", R"(ste_eval_errors_total{kind="database"})") == 0);
  CHECK(p.stream_messages("STE_DEAD") == 1);
}

TEST_CASE(
    "A summary whose evaluation keeps failing is retried with back-off, then dead-lettered with "
    "the error — other summaries are unaffected",
    "[dead_letter]") {
  Pipeline p;
  p.add_rule("above_threshold", 80, "temperature", 0);
  // A fault that is certain and not the database's availability: storing an alert for
  // poison-1 raises an exception (SQLSTATE P0001), every time.
  exec_sql(p.db_url, R"sql(
    CREATE FUNCTION poison_alert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'poisoned alert for %', NEW.device_key; END $$;
    CREATE TRIGGER poison BEFORE INSERT ON alerts FOR EACH ROW
      WHEN (NEW.device_key = 'poison-1') EXECUTE FUNCTION poison_alert();
  )sql");
  p.start_evaluator("a", {{"STE_MAX_DELIVERIES", "3"}});

  const std::string poison = summary_json(p, "b-poison", "poison-1", 9001, "temperature", 95);
  const auto published = std::chrono::steady_clock::now();
  p.client->js_publish(kBatchesSubject, poison);
  p.client->js_publish(kBatchesSubject,
                       summary_json(p, "b-healthy", "healthy-1", 9002, "temperature", 96));

  REQUIRE(eventually([&] { return p.stream_messages("STE_DEAD") == 1; }, 30s, 50ms));
  const auto elapsed = std::chrono::steady_clock::now() - published;
  auto dead = dead_letter_at(p, 1);
  REQUIRE(dead);
  CHECK(data(dead.get()) == poison);
  CHECK(header(dead.get(), kDeadReasonHeader) == "evaluation_failed");
  CHECK(header(dead.get(), kDeadDetailHeader).find("poisoned alert for poison-1") !=
        std::string::npos);
  CHECK(header(dead.get(), kDeadDeliveriesHeader) == "3");
  // Deliveries 1, 2 and 3 with nak delays of 1 s and 2 s between them.
  CHECK(elapsed >= 2900ms);

  REQUIRE(eventually([&] { return p.stream_messages("STE_BATCHES") == 0 && consumer_idle(p); }, 10s,
                     50ms));
  CHECK(p.evaluator_metric("a", kDeadFailed) == 1);
  CHECK(p.evaluator_metric("a", R"(ste_eval_errors_total{kind="evaluation"})") == 3);
  CHECK(p.evaluator_metric("a", R"(ste_eval_errors_total{kind="database"})") == 0);
  CHECK(p.stream_messages("STE_DEAD") == 1);
  CHECK(query_scalar(p.db_url, "SELECT string_agg(device_key, ',') FROM alerts") == "healthy-1");

  // The operator's path (docs/operations.md): list, fix the cause, replay, and it is evaluated.
  const Process::Env nats_env{{"STE_NATS_URL", p.nats.url()}};
  const std::string list_log = p.logs.path() + "/dead-list.log";
  REQUIRE(run_command({STE_ADMIN_BIN, "dead-letters", "list", "--stream", "STE_BATCHES"}, list_log,
                      30s, nats_env) == 0);
  const std::string listed = read_file(list_log);
  INFO(listed);
  CHECK(listed.find(R"("seq":1,"subject":"ste.dead.STE_BATCHES","reason":"evaluation_failed")") !=
        std::string::npos);
  CHECK(listed.find(R"("original_subject":"ste.batches.flushed")") != std::string::npos);
  CHECK(listed.find(R"("deliveries":"3")") != std::string::npos);
  exec_sql(p.db_url, "DROP TRIGGER poison ON alerts");
  const std::string replay_log = p.logs.path() + "/dead-replay.log";
  REQUIRE(run_command({STE_ADMIN_BIN, "dead-letters", "replay", "--seq", "1"}, replay_log, 30s,
                      nats_env) == 0);
  INFO(read_file(replay_log));
  REQUIRE(eventually([&] { return p.alerts() == 2; }, 20s, 50ms));
  CHECK(query_scalar(p.db_url,
                     "SELECT string_agg(device_key, ',' ORDER BY device_key) FROM "
                     "alerts") == "healthy-1,poison-1");
  CHECK(p.stream_messages("STE_DEAD") == 0);  // replayed, then deleted
}

TEST_CASE(
    "A summary evaluated while the database is stopped is never dead-lettered and fires its "
    "alert once the database is back",
    "[dead_letter]") {
  Pipeline p(/*own_pg=*/true);
  p.add_rule("above_threshold", 80, "temperature", 0);
  p.start_evaluator("a", {{"STE_MAX_DELIVERIES", "2"}});

  p.pg->stop();
  p.client->js_publish(kBatchesSubject,
                       summary_json(p, "b-outage", "boiler-1", 7001, "temperature", 97));
  // More deliveries fail than the limit allows a failing summary (2): delivery 3 follows the
  // second nak by 2 s.
  const std::string db_errors = R"(ste_eval_errors_total{kind="database"})";
  REQUIRE(eventually([&] { return p.evaluator_metric("a", db_errors) >= 3; }, 30s, 100ms));
  CHECK(p.stream_messages("STE_DEAD") == 0);
  CHECK(p.evaluator_metric("a", kDeadFailed) == 0);
  CHECK(p.evaluator_metric("a", R"(ste_eval_errors_total{kind="evaluation"})") == 0);

  p.pg->start();
  const bool alerted = eventually([&] { return p.alerts() == 1; }, 40s, 100ms);
  INFO(read_file(p.evaluators["a"].log));
  REQUIRE(alerted);
  CHECK(query_scalar(p.db_url, "SELECT device_key || '=' || value FROM alerts") == "boiler-1=97");
  REQUIRE(eventually([&] { return p.stream_messages("STE_BATCHES") == 0 && consumer_idle(p); }, 10s,
                     50ms));
  CHECK(p.stream_messages("STE_DEAD") == 0);
}
