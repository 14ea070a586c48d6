#pragma once
/// The identifier grammar of the contract (docs/DESIGN.md §3, docs/limits.md): tenant slugs,
/// device keys, metric names and API key names. This is the one definition the C++ sites use (the
/// subject and reading parsers, the HTTP API, ste-admin); the schema's CHECK constraints say the
/// same in SQL (schema/001_ingest.sql, 002_alerts.sql), and
/// tests/integration/identifier_schema_test.cpp proves the two accept exactly the same strings.
///
/// The rules are byte-wise ASCII: every allowed character is one byte, so a length is both a
/// byte and a character count, and any non-ASCII byte is a forbidden character. No reserved
/// words. Pure, allocation-free and thread-safe: the reading parser checks every metric name.
#include <cstddef>
#include <optional>
#include <string_view>

namespace ste::ident {

/// `[a-z0-9-]{1,63}`: a tenant slug (the second token of `sensors.<tenant>.<device>`).
inline constexpr std::size_t kMaxTenantSlugLength = 63;
/// `[A-Za-z0-9_-]{1,128}`: a device key (the subject's third token; no '.', so it stays one
/// NATS token).
inline constexpr std::size_t kMaxDeviceKeyLength = 128;
/// `[A-Za-z0-9_.:-]{1,128}`: a metric name (a reading's `metric`, a rule's `metric`).
inline constexpr std::size_t kMaxMetricNameLength = 128;
/// `[A-Za-z0-9_.@-]{1,64}`: an API key's name (shown as acked_by, created_by; '@' so an e-mail
/// address fits). schema/006_api_keys.sql says the same.
inline constexpr std::size_t kMaxApiKeyNameLength = 64;

/// Each rule in words, as error messages quote it ("slug must be " + kTenantSlugRule).
inline constexpr std::string_view kTenantSlugRule = "1-63 characters of [a-z0-9-]";
inline constexpr std::string_view kDeviceKeyRule = "1-128 characters of [A-Za-z0-9_-]";
inline constexpr std::string_view kMetricNameRule = "1-128 characters of [A-Za-z0-9_.:-]";
inline constexpr std::string_view kApiKeyNameRule = "1-64 characters of [A-Za-z0-9_.@-]";

/// Why `s` is not a valid identifier of its kind, in words that complete "the <kind> ...":
/// "is empty", "is longer than 63 characters", "has a character outside [a-z0-9-]".
/// nullopt when `s` is valid. The text is static (no allocation).
std::optional<std::string_view> tenant_slug_problem(std::string_view s);
std::optional<std::string_view> device_key_problem(std::string_view s);
std::optional<std::string_view> metric_name_problem(std::string_view s);
std::optional<std::string_view> api_key_name_problem(std::string_view s);

inline bool is_tenant_slug(std::string_view s) { return !tenant_slug_problem(s); }
inline bool is_device_key(std::string_view s) { return !device_key_problem(s); }
inline bool is_metric_name(std::string_view s) { return !metric_name_problem(s); }
inline bool is_api_key_name(std::string_view s) { return !api_key_name_problem(s); }

}  // namespace ste::ident
