#include "evaluator/delivery/webhook_address_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <string>

using ste::eval::must_guard_address;
using ste::eval::non_public_address_reason;

namespace {
/// The guard's verdict for a textual IPv4 or IPv6 address ("" = public).
std::string verdict(const std::string& ip) {
  sockaddr_storage ss{};
  if (ip.find(':') == std::string::npos) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    REQUIRE(inet_pton(AF_INET, ip.c_str(), &in->sin_addr) == 1);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    REQUIRE(inet_pton(AF_INET6, ip.c_str(), &in6->sin6_addr) == 1);
  }
  return non_public_address_reason(reinterpret_cast<const sockaddr*>(&ss)).value_or("");
}
}  // namespace

TEST_CASE("loopback, private, link-local and other non-public IPv4 ranges are refused",
          "[webhook_address_guard]") {
  CHECK(verdict("127.0.0.1") == "127.0.0.1 is a loopback address");
  CHECK(verdict("127.255.255.254") == "127.255.255.254 is a loopback address");
  CHECK(verdict("10.1.2.3") == "10.1.2.3 is a private address");
  CHECK(verdict("172.16.0.1") == "172.16.0.1 is a private address");
  CHECK(verdict("172.31.255.255") == "172.31.255.255 is a private address");
  CHECK(verdict("192.168.1.10") == "192.168.1.10 is a private address");
  CHECK(verdict("169.254.169.254") == "169.254.169.254 is a link-local address");  // metadata
  CHECK(verdict("100.64.0.1") == "100.64.0.1 is a shared (carrier-grade NAT) address");
  CHECK(verdict("0.0.0.0") == "0.0.0.0 is an unspecified ('this network') address");
  CHECK(verdict("224.0.0.1") == "224.0.0.1 is a multicast address");
  CHECK(verdict("255.255.255.255") == "255.255.255.255 is a reserved address");
  CHECK(verdict("192.0.0.8") == "192.0.0.8 is an IETF protocol address");
}

TEST_CASE("public IPv4 addresses next to the refused ranges are allowed",
          "[webhook_address_guard]") {
  for (const char* ip :
       {"8.8.8.8", "9.255.255.255", "11.0.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255",
        "192.169.0.0", "169.253.255.255", "100.63.255.255", "100.128.0.0", "126.255.255.255",
        "128.0.0.0", "223.255.255.255", "192.0.1.1"}) {
    INFO(ip);
    CHECK(verdict(ip).empty());
  }
}

TEST_CASE(
    "IPv6 loopback, unspecified, unique local, link-local, multicast and mapped private "
    "addresses are refused",
    "[webhook_address_guard]") {
  CHECK(verdict("::1") == "::1 is a loopback address");
  CHECK(verdict("::") == ":: is an unspecified address");
  CHECK(verdict("fd00::1") == "fd00::1 is a unique local (private) address");
  CHECK(verdict("fc00::1") == "fc00::1 is a unique local (private) address");
  CHECK(verdict("fe80::1") == "fe80::1 is a link-local address");
  CHECK(verdict("febf::1") == "febf::1 is a link-local address");
  CHECK(verdict("fec0::1") == "fec0::1 is a site-local (private) address");
  CHECK(verdict("ff02::1") == "ff02::1 is a multicast address");
  CHECK(verdict("::ffff:127.0.0.1") == "::ffff:127.0.0.1 is a loopback address");
  CHECK(verdict("::ffff:10.0.0.1") == "::ffff:10.0.0.1 is a private address");
}

TEST_CASE("public IPv6 addresses are allowed", "[webhook_address_guard]") {
  for (const char* ip : {"2001:4860:4860::8888", "2a00:1450::1", "fe7f::1", "::ffff:8.8.8.8"}) {
    INFO(ip);
    CHECK(verdict(ip).empty());
  }
}

TEST_CASE("an address of another family is refused", "[webhook_address_guard]") {
  sockaddr unix_like{};
  unix_like.sa_family = AF_UNIX;
  CHECK(non_public_address_reason(&unix_like).has_value());
}

TEST_CASE("only a tenant's own URLs are guarded, and only unless private targets are allowed",
          "[webhook_address_guard]") {
  const std::string hub = "http://hub.internal:8080";
  const std::string wf = "http://10.0.0.5/hook";
  CHECK(must_guard_address("https://tenant.example/hook", hub, wf, false));
  CHECK_FALSE(must_guard_address(hub, hub, wf, false));
  CHECK_FALSE(must_guard_address(wf, hub, wf, false));
  CHECK_FALSE(must_guard_address("https://tenant.example/hook", hub, wf, true));
  // No defaults configured: every URL is a tenant's.
  CHECK(must_guard_address("http://127.0.0.1:1/x", "", "", false));
}
