#pragma once
/// Secrets out of log lines and error messages: URLs may carry credentials
/// (`nats://user:password@host:4222`, `postgresql://app:secret@db/ste`, a NATS token as
/// `nats://token@host`). Pure function, unit-tested.
#include <string>
#include <string_view>

namespace ste {

/// `text` with the user-info part of every URL in it (`scheme://USERINFO@host`) replaced by
/// `***`, so `nats://a:b@h:4222,nats://h2:4222` becomes `nats://***@h:4222,nats://h2:4222`.
/// Text without `://` is returned unchanged.
std::string redact_url_credentials(std::string_view text);

}  // namespace ste
