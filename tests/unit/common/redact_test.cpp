#include "common/redact.hpp"

#include <catch2/catch.hpp>

using ste::redact_url_credentials;

TEST_CASE("user and password in a URL are replaced", "[redact]") {
  CHECK(redact_url_credentials("nats://app:s3cret@127.0.0.1:4222") == "nats://***@127.0.0.1:4222");
  CHECK(redact_url_credentials("postgresql://app:pw@db:5432/ste?sslmode=require") ==
        "postgresql://***@db:5432/ste?sslmode=require");
}

TEST_CASE("a token-only user-info is replaced too", "[redact]") {
  CHECK(redact_url_credentials("nats://tok3n@h:4222") == "nats://***@h:4222");
}

TEST_CASE("every URL of a comma-separated list is redacted, in any text", "[redact]") {
  CHECK(redact_url_credentials("cannot connect to NATS at nats://a:b@h1:4222,nats://h2:4222,"
                               "tls://c:d@h3:4443: no servers") ==
        "cannot connect to NATS at nats://***@h1:4222,nats://h2:4222,tls://***@h3:4443: no "
        "servers");
}

TEST_CASE("a password containing '@' is hidden whole", "[redact]") {
  CHECK(redact_url_credentials("nats://u:p@ss@h:1") == "nats://***@h:1");
}

TEST_CASE("text without credentials is unchanged", "[redact]") {
  const auto same = GENERATE(as<std::string>{}, "", "no url here", "nats://127.0.0.1:4222",
                             "http://h/path@not-userinfo", "a@b", "nats://h:1, x@y");
  CHECK(redact_url_credentials(same) == same);
}
