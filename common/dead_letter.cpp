#include "common/dead_letter.hpp"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "common/redelivery.hpp"

namespace ste {

namespace {
struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};

void set_header(natsMsg* m, const char* key, const std::string& value) {
  nats_check(natsMsgHeader_Set(m, key, value.c_str()), fmt::format("dead letter header {}", key));
}

/// The original's own headers travel along; NATS' (`Nats-Msg-Id`, ...) and ours do not.
void copy_headers(natsMsg* from, natsMsg* to) {
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(from, &keys, &count) != NATS_OK || !keys) return;  // none
  for (int i = 0; i < count; ++i) {
    if (strncasecmp(keys[i], "Nats-", 5) == 0 || strncasecmp(keys[i], "Ste-", 4) == 0) continue;
    const char** values = nullptr;
    int n = 0;
    if (natsMsgHeader_Values(from, keys[i], &values, &n) != NATS_OK || !values) continue;
    for (int v = 0; v < n; ++v) natsMsgHeader_Add(to, keys[i], values[v]);
    free(static_cast<void*>(values));
  }
  free(static_cast<void*>(keys));
}
}  // namespace

std::string dead_letter_subject(std::string_view stream) {
  return fmt::format("ste.dead.{}", stream);
}

std::string header_safe(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  if (out.size() > max_bytes) {
    std::size_t cut = max_bytes;
    // Back up over UTF-8 continuation bytes so the value stays valid UTF-8.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

natsStatus dead_letter(NatsClient& nats, natsMsg* msg, std::string_view stream,
                       std::string_view reason, std::string_view detail) {
  std::uint64_t sequence = 0;
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta) {
    sequence = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
  }
  const std::string subject = dead_letter_subject(stream);
  natsMsg* raw = nullptr;
  nats_check(natsMsg_Create(&raw, subject.c_str(), nullptr, natsMsg_GetData(msg),
                            natsMsg_GetDataLength(msg)),
             "dead letter message");
  std::unique_ptr<natsMsg, MsgDeleter> dead(raw);
  copy_headers(msg, raw);
  const char* original_subject = natsMsg_GetSubject(msg);
  set_header(raw, kDeadReasonHeader, header_safe(reason, 128));
  set_header(raw, kDeadDetailHeader, header_safe(detail, kDeadDetailMaxBytes));
  set_header(raw, kDeadSubjectHeader, original_subject ? original_subject : "");
  set_header(raw, kDeadStreamHeader, std::string(stream));
  set_header(raw, kDeadSequenceHeader, std::to_string(sequence));
  set_header(raw, kDeadDeliveriesHeader, std::to_string(delivery_count(msg)));

  const std::string msg_id = fmt::format("{}:{}", stream, sequence);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 5000;
  po.ExpectStream = kDeadStream.name.c_str();
  if (sequence > 0) po.MsgId = msg_id.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = js_PublishMsg(&ack, nats.js(), raw, &po, &jerr);
  if (ack) jsPubAck_Destroy(ack);
  nats_check(s, fmt::format("dead letter publish {} (jetstream error {})", subject,
                            static_cast<int>(jerr)));
  return natsMsg_Term(msg, nullptr);
}

}  // namespace ste
