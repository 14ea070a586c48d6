#include "ingester/subject_parser.hpp"

#include <catch2/catch.hpp>
#include <string>

using ste::ingest::is_valid_device_key;
using ste::ingest::is_valid_tenant_slug;
using ste::ingest::parse_sensor_subject;
using ste::ingest::rejected_subject_token;

TEST_CASE("a sensors subject yields its tenant slug and device key", "[subject_parser]") {
  const auto s = parse_sensor_subject("sensors.acme-1.boiler_7-A");
  REQUIRE(s);
  CHECK(s->tenant == "acme-1");
  CHECK(s->device == "boiler_7-A");
}

TEST_CASE("a subject that is not exactly sensors.<slug>.<device> is not a sensor subject",
          "[subject_parser]") {
  CHECK_FALSE(parse_sensor_subject(""));
  CHECK_FALSE(parse_sensor_subject("sensors"));
  CHECK_FALSE(parse_sensor_subject("sensors.acme"));
  CHECK_FALSE(parse_sensor_subject("sensors.acme."));
  CHECK_FALSE(parse_sensor_subject("sensors..dev"));
  CHECK_FALSE(parse_sensor_subject(".acme.dev"));
  CHECK_FALSE(parse_sensor_subject("sensor.acme.dev"));
  CHECK_FALSE(parse_sensor_subject("Sensors.acme.dev"));
  CHECK_FALSE(parse_sensor_subject("readings.acme.dev"));
  CHECK_FALSE(parse_sensor_subject("sensors.acme.dev.extra"));
  CHECK_FALSE(parse_sensor_subject("sensors.acme.dev."));
  CHECK_FALSE(parse_sensor_subject("sensors.*.dev"));
  CHECK_FALSE(parse_sensor_subject("sensors.acme.>"));
}

TEST_CASE("a subject with an invalid slug or device key is not a sensor subject",
          "[subject_parser]") {
  CHECK_FALSE(parse_sensor_subject("sensors.Acme.dev"));
  CHECK_FALSE(parse_sensor_subject("sensors.ac_me.dev"));
  CHECK_FALSE(parse_sensor_subject("sensors.acme.dev:1"));
  CHECK_FALSE(parse_sensor_subject("sensors." + std::string(64, 'a') + ".dev"));
  CHECK_FALSE(parse_sensor_subject("sensors.acme." + std::string(129, 'd')));
  CHECK(parse_sensor_subject("sensors." + std::string(63, 'a') + "." + std::string(128, 'd')));
}

TEST_CASE("a tenant slug is 1 to 63 characters of lower-case letters, digits and dashes",
          "[subject_parser]") {
  CHECK(is_valid_tenant_slug("a"));
  CHECK(is_valid_tenant_slug("acme-01"));
  CHECK(is_valid_tenant_slug(std::string(63, 'x')));
  CHECK_FALSE(is_valid_tenant_slug(""));
  CHECK_FALSE(is_valid_tenant_slug(std::string(64, 'x')));
  CHECK_FALSE(is_valid_tenant_slug("Acme"));
  CHECK_FALSE(is_valid_tenant_slug("ac_me"));
  CHECK_FALSE(is_valid_tenant_slug("ac.me"));
  CHECK_FALSE(is_valid_tenant_slug("acm\xc3\xa9"));
}

TEST_CASE("a device key is 1 to 128 characters of letters, digits, underscores and dashes",
          "[subject_parser]") {
  CHECK(is_valid_device_key("D"));
  CHECK(is_valid_device_key("Boiler_7-a"));
  CHECK(is_valid_device_key(std::string(128, 'k')));
  CHECK_FALSE(is_valid_device_key(""));
  CHECK_FALSE(is_valid_device_key(std::string(129, 'k')));
  CHECK_FALSE(is_valid_device_key("dev.1"));
  CHECK_FALSE(is_valid_device_key("dev 1"));
  CHECK_FALSE(is_valid_device_key("dev*"));
}

TEST_CASE("the rejected-subject token is the subject's second token when usable",
          "[subject_parser]") {
  CHECK(rejected_subject_token("sensors.acme.dev") == "acme");
  CHECK(rejected_subject_token("sensors.UnknownTenant.dev") == "UnknownTenant");
  CHECK(rejected_subject_token("sensors.acme") == "acme");
  CHECK(rejected_subject_token("sensors.acme.dev.extra") == "acme");
  CHECK(rejected_subject_token("other.x_y") == "x_y");
  CHECK(rejected_subject_token("sensors." + std::string(63, 't') + ".d") == std::string(63, 't'));
}

TEST_CASE("the rejected-subject token is an underscore when the subject has no usable tenant token",
          "[subject_parser]") {
  CHECK(rejected_subject_token("") == "_");
  CHECK(rejected_subject_token("sensors") == "_");
  CHECK(rejected_subject_token("sensors.") == "_");
  CHECK(rejected_subject_token("sensors..dev") == "_");
  CHECK(rejected_subject_token("sensors.*.dev") == "_");
  CHECK(rejected_subject_token("sensors.>") == "_");
  CHECK(rejected_subject_token("sensors.a*b.dev") == "_");
  CHECK(rejected_subject_token("sensors.ac me.dev") == "_");
  CHECK(rejected_subject_token("sensors.ac\tme.dev") == "_");
  CHECK(rejected_subject_token("sensors." + std::string(64, 't') + ".d") == "_");
}
