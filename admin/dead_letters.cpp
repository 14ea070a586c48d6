#include "admin/dead_letters.hpp"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>

#include "common/dead_letter.hpp"
#include "common/json_writer.hpp"
#include "common/log.hpp"

namespace ste::admin {

namespace {
struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

std::string header(natsMsg* m, const char* key) {
  const char* v = nullptr;
  return natsMsgHeader_Get(m, key, &v) == NATS_OK && v ? v : "";
}

/// The stored message at `seq`, or null when that sequence was deleted (or never existed).
MsgPtr get(NatsClient& nats, std::uint64_t seq) {
  natsMsg* m = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetMsg(&m, nats.js(), kDeadStream.name.c_str(), seq, nullptr, &jerr);
  if (s == NATS_NOT_FOUND || (s != NATS_OK && jerr == JSNoMessageFoundErr)) return nullptr;
  nats_check(s, fmt::format("read {} sequence {}", kDeadStream.name, seq));
  return MsgPtr(m);
}

DeadLetterEntry entry(natsMsg* m, std::uint64_t seq) {
  DeadLetterEntry e;
  e.seq = seq;
  e.subject = natsMsg_GetSubject(m) ? natsMsg_GetSubject(m) : "";
  e.reason = header(m, kDeadReasonHeader);
  e.detail = header(m, kDeadDetailHeader);
  e.original_subject = header(m, kDeadSubjectHeader);
  e.original_stream = header(m, kDeadStreamHeader);
  e.original_sequence = header(m, kDeadSequenceHeader);
  e.deliveries = header(m, kDeadDeliveriesHeader);
  e.bytes = static_cast<std::size_t>(natsMsg_GetDataLength(m));
  e.data.assign(natsMsg_GetData(m), e.bytes);
  return e;
}
}  // namespace

std::vector<DeadLetterEntry> list_dead_letters(NatsClient& nats,
                                               const std::optional<std::string>& stream,
                                               std::size_t limit) {
  jsStreamInfo* info = nullptr;
  nats_check(js_GetStreamInfo(&info, nats.js(), kDeadStream.name.c_str(), nullptr, nullptr),
             fmt::format("stream {} (the services create it at start)", kDeadStream.name));
  const std::uint64_t first = info->State.FirstSeq;
  const std::uint64_t last = info->State.LastSeq;
  const bool empty = info->State.Msgs == 0;
  jsStreamInfo_Destroy(info);
  std::vector<DeadLetterEntry> out;
  if (empty) return out;
  const std::string want = stream ? dead_letter_subject(*stream) : "";
  for (std::uint64_t seq = first; seq <= last && out.size() < limit; ++seq) {
    auto m = get(nats, seq);
    if (!m) continue;
    if (!want.empty() && want != natsMsg_GetSubject(m.get())) continue;
    out.push_back(entry(m.get(), seq));
  }
  return out;
}

std::string dead_letter_json(const DeadLetterEntry& e, bool with_data) {
  JsonWriter w;
  w.begin_object()
      .field("seq", static_cast<std::uint64_t>(e.seq))
      .field("subject", e.subject)
      .field("reason", e.reason)
      .field("detail", e.detail)
      .field("original_subject", e.original_subject)
      .field("original_stream", e.original_stream)
      .field("original_sequence", e.original_sequence)
      .field("deliveries", e.deliveries)
      .field("bytes", static_cast<std::uint64_t>(e.bytes));
  if (with_data) w.field("data", e.data);
  w.end_object();
  return w.take();
}

void replay_dead_letter(NatsClient& nats, std::uint64_t seq) {
  auto m = get(nats, seq);
  if (!m) throw std::runtime_error(fmt::format("no dead letter with seq {}", seq));
  const DeadLetterEntry e = entry(m.get(), seq);
  if (e.original_subject.empty()) {
    throw std::runtime_error(
        fmt::format("dead letter {} has no {} header", seq, kDeadSubjectHeader));
  }
  nats.js_publish(e.original_subject, e.data);  // durable in its stream before we delete
  jsErrCode jerr = static_cast<jsErrCode>(0);
  nats_check(js_DeleteMsg(nats.js(), kDeadStream.name.c_str(), seq, nullptr, &jerr),
             fmt::format("delete dead letter {} after its replay (jetstream error {})", seq,
                         static_cast<int>(jerr)));
}

int dead_letters_command(const NatsSettings& settings, bool list, const std::string& stream,
                         std::size_t limit, bool with_data, const std::vector<std::uint64_t>& seqs,
                         bool all) {
  NatsSettings s = settings;
  s.name = "ste-admin";
  NatsClient nats(s);
  const std::optional<std::string> only =
      stream.empty() ? std::nullopt : std::optional<std::string>(stream);
  if (list) {
    for (const auto& e : list_dead_letters(nats, only, limit)) {
      fmt::print("{}\n", dead_letter_json(e, with_data));
    }
    return 0;
  }
  std::vector<std::uint64_t> todo = seqs;
  if (all) {
    for (const auto& e : list_dead_letters(nats, only, SIZE_MAX)) todo.push_back(e.seq);
  }
  if (todo.empty() && !all) throw std::runtime_error("replay needs --seq N... or --all");
  int failed = 0;
  for (std::uint64_t seq : todo) {
    try {
      replay_dead_letter(nats, seq);
      JsonWriter w;
      w.begin_object().field("seq", static_cast<std::uint64_t>(seq)).field("replayed", true);
      w.end_object();
      fmt::print("{}\n", w.str());
    } catch (const std::exception& e) {
      ++failed;
      log::error("dead letter not replayed; it stays in STE_DEAD",
                 {{"seq", static_cast<std::uint64_t>(seq)}, {"error", e.what()}});
    }
  }
  log::info("dead letters replayed",
            {{"replayed", todo.size() - static_cast<std::size_t>(failed)}, {"failed", failed}});
  return failed == 0 ? 0 : 1;
}

}  // namespace ste::admin
