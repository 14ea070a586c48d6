#include "common/jetstream_fetch.hpp"

namespace ste {

natsStatus fetch_messages(natsMsgList* list, natsSubscription* sub, int batch, Millis wait,
                          jsErrCode* jerr) {
  int queued = 0;
  if (natsSubscription_GetPending(sub, &queued, nullptr) != NATS_OK || queued > 0) batch = 1;
  return natsSubscription_Fetch(list, sub, batch, wait.count(), jerr);
}

}  // namespace ste
