// trim_point: what the SENSORS trimmer may purge, given the stream's bounds and its consumers'
// ack floors. Nothing any consumer has not acked may ever go.
#include "ingester/stream_trimmer.hpp"

#include <catch2/catch.hpp>

using ste::StreamPosition;
using ste::ingest::trim_point;

TEST_CASE("trim_point purges below the lowest ack floor", "[trim]") {
  CHECK(trim_point({1, 100, {40}}) == 41u);
  // Two consumers (the ingester and, say, an archive): the slower one decides.
  CHECK(trim_point({1, 100, {90, 25}}) == 26u);
  CHECK(trim_point({1, 100, {25, 90}}) == 26u);
}

TEST_CASE("trim_point purges nothing that is not acked by every consumer", "[trim]") {
  SECTION("no consumer: nobody has read anything yet") { CHECK_FALSE(trim_point({1, 100, {}})); }
  SECTION("a consumer that has acked nothing") { CHECK_FALSE(trim_point({1, 100, {0, 50}})); }
  SECTION("the floor is below the first stored message (already trimmed)") {
    CHECK_FALSE(trim_point({41, 100, {40}}));
    CHECK_FALSE(trim_point({41, 100, {20}}));
  }
  SECTION("an empty stream") { CHECK_FALSE(trim_point({0, 100, {100}})); }
}

TEST_CASE("trim_point trims up to the newest message and never past it", "[trim]") {
  // Everything acked: purge all of it (below last + 1).
  CHECK(trim_point({1, 100, {100}}) == 101u);
  // A floor reported beyond the last sequence (a consumer of a stream that was purged and
  // refilled) never purges beyond what is stored.
  CHECK(trim_point({1, 100, {500}}) == 101u);
  // The first message is the only one acked.
  CHECK(trim_point({7, 9, {7}}) == 8u);
}
