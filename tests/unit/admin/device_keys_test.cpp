#include "admin/device_keys.hpp"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

using ste::admin::read_device_keys;

namespace {
ste::admin::DeviceKeyList read(const std::string& text) {
  std::istringstream in(text);
  return read_device_keys(in);
}
}  // namespace

TEST_CASE("device keys: one per line, blank lines and surrounding spaces ignored",
          "[admin][device_keys]") {
  const auto r = read("boiler-1\n\n  boiler_2 \r\nPUMP-3\n");
  CHECK(r.keys == std::vector<std::string>{"boiler-1", "boiler_2", "PUMP-3"});
  CHECK(r.invalid.empty());
}

TEST_CASE("device keys: a CSV's first column, with an optional header", "[admin][device_keys]") {
  const auto r = read("device_key,site,notes\n\"boiler-1\",north,a\nboiler-2,south,\"b, c\"\n");
  CHECK(r.keys == std::vector<std::string>{"boiler-1", "boiler-2"});
  CHECK(r.invalid.empty());
  // Without a header the first line is a key like any other.
  CHECK(read("boiler-1,north\n").keys == std::vector<std::string>{"boiler-1"});
  // Only the first non-blank line can be a header.
  const auto later = read("a\nkey\n");
  CHECK(later.keys == std::vector<std::string>{"a", "key"});
}

TEST_CASE("device keys: invalid ones are reported with their line numbers",
          "[admin][device_keys]") {
  const std::string too_long(129, 'x');
  const auto r = read("ok-1\nbad key\n\nsensors.acme.x\n" + too_long + "\n" +
                      std::string(128, 'y') + "\n,empty-first-column\n");
  CHECK(r.keys == std::vector<std::string>{"ok-1", std::string(128, 'y')});
  REQUIRE(r.invalid.size() == 4);
  CHECK(r.invalid[0].line == 2);
  CHECK(r.invalid[0].text == "bad key");
  CHECK(r.invalid[1].line == 4);
  CHECK(r.invalid[1].text == "sensors.acme.x");
  CHECK(r.invalid[2].line == 5);
  CHECK(r.invalid[3].line == 7);
  CHECK(r.invalid[3].text.empty());
}
