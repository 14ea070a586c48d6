#pragma once
/// WebhookAddressGuard: which network addresses a tenant's own webhook URL may reach. A tenant
/// sets its URLs through the API, so without a check a tenant key could make the evaluator POST
/// to services on its own network (server-side request forgery). The check runs on the address
/// libcurl is about to connect to, after name resolution, so a name that resolves (or
/// re-resolves) to a private address is caught too. The operator's STE_* default targets are not
/// checked: they are configured by whoever runs the evaluator. Pure functions, unit-tested.
#include <sys/socket.h>

#include <optional>
#include <string>

namespace ste::eval {

/// Why `addr` (AF_INET or AF_INET6) is not a public unicast address, e.g. "127.0.0.1 is a
/// loopback address"; nullopt when it is public. Loopback, private (RFC 1918, unique local,
/// site-local), link-local, shared (100.64/10), unspecified, multicast and reserved ranges are
/// refused, as is
/// an IPv4-mapped IPv6 address of any of them. Other families are refused.
std::optional<std::string> non_public_address_reason(const sockaddr* addr);

/// Whether a delivery to `url` must pass the check: tenant targets are checked unless
/// `allow_private` (STE_ALLOW_PRIVATE_TENANT_WEBHOOKS); a URL equal to one of the operator's
/// defaults is the operator's own target.
bool must_guard_address(const std::string& url, const std::string& default_hub_url,
                        const std::string& default_workflow_url, bool allow_private);

}  // namespace ste::eval
