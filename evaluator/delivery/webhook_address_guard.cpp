#include "evaluator/delivery/webhook_address_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace ste::eval {

namespace {

struct V4Range {
  std::uint32_t base;
  int prefix;
  const char* kind;
};

constexpr std::uint32_t v4(int a, int b, int c, int d) {
  return (static_cast<std::uint32_t>(a) << 24) | (static_cast<std::uint32_t>(b) << 16) |
         (static_cast<std::uint32_t>(c) << 8) | static_cast<std::uint32_t>(d);
}

constexpr std::array<V4Range, 10> kV4NotPublic{{
    {v4(0, 0, 0, 0), 8, "an unspecified ('this network')"},
    {v4(10, 0, 0, 0), 8, "a private"},
    {v4(100, 64, 0, 0), 10, "a shared (carrier-grade NAT)"},
    {v4(127, 0, 0, 0), 8, "a loopback"},
    {v4(169, 254, 0, 0), 16, "a link-local"},
    {v4(172, 16, 0, 0), 12, "a private"},
    {v4(192, 0, 0, 0), 24, "an IETF protocol"},
    {v4(192, 168, 0, 0), 16, "a private"},
    {v4(224, 0, 0, 0), 4, "a multicast"},
    {v4(240, 0, 0, 0), 4, "a reserved"},
}};

std::optional<std::string> v4_reason(std::uint32_t host_order, const std::string& shown) {
  for (const V4Range& r : kV4NotPublic) {
    const std::uint32_t mask = r.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - r.prefix);
    if ((host_order & mask) == r.base) return shown + " is " + r.kind + " address";
  }
  return std::nullopt;
}

std::string v6_text(const in6_addr& a) {
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(AF_INET6, &a, buf, sizeof buf);
  return buf;
}

}  // namespace

std::optional<std::string> non_public_address_reason(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    char buf[INET_ADDRSTRLEN] = {0};
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    return v4_reason(ntohl(in->sin_addr.s_addr), buf);
  }
  if (addr->sa_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
    const std::string shown = v6_text(a);
    const auto* b = a.s6_addr;
    if (IN6_IS_ADDR_UNSPECIFIED(&a)) return shown + " is an unspecified address";
    if (IN6_IS_ADDR_LOOPBACK(&a)) return shown + " is a loopback address";
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      std::uint32_t v = 0;
      std::memcpy(&v, b + 12, 4);
      return v4_reason(ntohl(v), shown);
    }
    if ((b[0] & 0xfe) == 0xfc) return shown + " is a unique local (private) address";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return shown + " is a link-local address";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return shown + " is a site-local (private) address";
    if (b[0] == 0xff) return shown + " is a multicast address";
    return std::nullopt;
  }
  return std::string("address family ") + std::to_string(addr->sa_family) + " is not IP";
}

bool must_guard_address(const std::string& url, const std::string& default_hub_url,
                        const std::string& default_workflow_url, bool allow_private) {
  if (allow_private) return false;
  return url != default_hub_url && url != default_workflow_url;
}

}  // namespace ste::eval
