/// libFuzzer target for parse_sensor_subject / rejected_subject_token (docs/DESIGN.md §3).
/// Aborts unless the parser agrees with an independent reference: a subject is accepted exactly
/// when it is `sensors.<slug>.<device key>`, and an accepted subject round-trips to its tokens.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ingester/subject_parser.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace ste::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ste::ingest;
  const std::string_view subject(reinterpret_cast<const char*>(data), size);

  // Reference split on '.', exactly three tokens.
  const auto d1 = subject.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : subject.find('.', d1 + 1);
  const bool three =
      d2 != std::string_view::npos && subject.find('.', d2 + 1) == std::string_view::npos;
  const bool ref_ok = three && subject.substr(0, d1) == "sensors" &&
                      is_slug(subject.substr(d1 + 1, d2 - d1 - 1)) &&
                      is_device_key(subject.substr(d2 + 1));

  const auto parsed = parse_sensor_subject(subject);
  EXPECT(parsed.has_value() == ref_ok);
  if (parsed) {
    EXPECT(is_valid_tenant_slug(parsed->tenant) && is_slug(parsed->tenant));
    EXPECT(is_valid_device_key(parsed->device) && is_device_key(parsed->device));
    EXPECT("sensors." + parsed->tenant + "." + parsed->device == subject);
    EXPECT(rejected_subject_token(subject) == parsed->tenant);
  }

  // The validators agree with the reference on any string, too.
  EXPECT(is_valid_tenant_slug(subject) == is_slug(subject));
  EXPECT(is_valid_device_key(subject) == is_device_key(subject));

  // The rejected-subject token is `_` or a literal NATS token: 1-63 bytes, no separator,
  // wildcard, whitespace or control byte; and it is the subject's second token.
  const std::string token = rejected_subject_token(subject);
  if (token != "_") {
    EXPECT(!token.empty() && token.size() <= 63);
    for (const char c : token) {
      const auto u = static_cast<unsigned char>(c);
      EXPECT(u > 0x20 && u != 0x7f && c != '.' && c != '*' && c != '>');
    }
    EXPECT(d1 != std::string_view::npos);
    EXPECT(subject.substr(d1 + 1).substr(0, token.size()) == token);
  }
  return 0;
}
