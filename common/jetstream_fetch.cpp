#include "common/jetstream_fetch.hpp"

namespace ste {

natsStatus fetch_messages(natsMsgList* list, natsSubscription* sub, int batch, Millis wait,
                          jsErrCode* jerr, FetchStyle style, std::int64_t max_bytes) {
  int queued = 0;
  if (natsSubscription_GetPending(sub, &queued, nullptr) != NATS_OK || queued > 0) batch = 1;
  if (style == FetchStyle::available || batch == 1) {
    return natsSubscription_Fetch(list, sub, batch, wait.count(), jerr);
  }
  jsFetchRequest req;
  jsFetchRequest_Init(&req);
  req.Batch = batch;
  req.Expires = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
  req.NoWait = false;
  req.MaxBytes = max_bytes;
  if (jerr) *jerr = static_cast<jsErrCode>(0);
  return natsSubscription_FetchRequest(list, sub, &req);
}

}  // namespace ste
