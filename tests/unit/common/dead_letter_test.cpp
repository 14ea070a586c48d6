#include "common/dead_letter.hpp"

#include <catch2/catch.hpp>

TEST_CASE("dead letters of a stream go to ste.dead.<stream>, inside STE_DEAD", "[dead_letter]") {
  CHECK(ste::dead_letter_subject("STE_BATCHES") == "ste.dead.STE_BATCHES");
  CHECK(ste::dead_letter_subject("SENSORS") == "ste.dead.SENSORS");
  CHECK(ste::kDeadStream.subject == "ste.dead.>");
  CHECK(ste::kDeadStream.retention == ste::StreamRetention::limits);
  CHECK(ste::kDeadStream.max_age == std::chrono::hours{24 * 14});
}

TEST_CASE("header values lose control characters", "[dead_letter]") {
  CHECK(ste::header_safe("line one\r\nline two\tend", 100) == "line one  line two end");
  CHECK(ste::header_safe("", 10).empty());
}

TEST_CASE("header values are cut without splitting a UTF-8 character", "[dead_letter]") {
  CHECK(ste::header_safe("abcdef", 4) == "abcd");
  // "é" is two bytes (C3 A9): a cut between them backs up before the character.
  CHECK(ste::header_safe("abcé", 4) == "abc");
  CHECK(ste::header_safe("abcé", 5) == "abcé");
}
