#include "common/pg_copy.hpp"

#include <catch2/catch.hpp>
#include <cstring>

using ste::PgCopyBuffer;

namespace {
const std::string kHeader("PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0", 19);
const std::string kTrailer("\xff\xff", 2);

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}
}  // namespace

TEST_CASE("an empty COPY stream is the header and the trailer", "[pg_copy]") {
  PgCopyBuffer b;
  CHECK(b.finish() == kHeader + kTrailer);
  CHECK(b.rows() == 0);
}

TEST_CASE("fields are length-prefixed big-endian values", "[pg_copy]") {
  PgCopyBuffer b;
  b.begin_row(5);
  b.add_int64(0x0102030405060708LL);
  b.add_float8(1.5);  // 0x3FF8000000000000
  b.add_text("ab");
  b.add_null();
  b.add_int64(-2);
  const std::string expected =
      kHeader + bytes({0, 5}) + bytes({0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}) +
      bytes({0, 0, 0, 8, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0}) + bytes({0, 0, 0, 2, 'a', 'b'}) +
      bytes({0xFF, 0xFF, 0xFF, 0xFF}) +
      bytes({0, 0, 0, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE}) + kTrailer;
  CHECK(b.rows() == 1);
  CHECK(b.finish() == expected);
}

TEST_CASE("timestamptz counts microseconds from 2000-01-01", "[pg_copy]") {
  PgCopyBuffer b;
  b.begin_row(2);
  b.add_timestamptz_us(ste::kPgEpochOffsetUs);      // 2000-01-01T00:00:00Z = 0
  b.add_timestamptz_us(ste::kPgEpochOffsetUs - 1);  // one microsecond before = -1
  const std::string out = b.finish();
  CHECK(out == kHeader + bytes({0, 2}) + bytes({0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0}) +
                   bytes({0, 0, 0, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) + kTrailer);
  CHECK(ste::kPgEpochOffsetUs == 946684800000000LL);
}

TEST_CASE("finish resets the buffer for the next batch", "[pg_copy]") {
  PgCopyBuffer b;
  b.begin_row(1);
  b.add_text("x");
  (void)b.finish();
  CHECK(b.rows() == 0);
  b.begin_row(1);
  b.add_text("");  // empty text is length 0, not NULL
  CHECK(b.finish() == kHeader + bytes({0, 1}) + bytes({0, 0, 0, 0}) + kTrailer);
}
