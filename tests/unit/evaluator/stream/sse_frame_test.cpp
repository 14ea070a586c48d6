#include "evaluator/stream/sse_frame.hpp"

#include <catch2/catch.hpp>

using ste::stream::EventId;
using ste::stream::format_event_id;
using ste::stream::parse_event_id;
using ste::stream::sse_comment;
using ste::stream::sse_frame;

TEST_CASE("an SSE frame has its id, event, one data line per line and a blank line", "[stream]") {
  CHECK(sse_frame("alert", R"({"a":1})", "abc-7") ==
        "id: abc-7\nevent: alert\ndata: {\"a\":1}\n\n");
  CHECK(sse_frame("reading", "{}") == "event: reading\ndata: {}\n\n");
  CHECK(sse_frame("x", "one\ntwo") == "event: x\ndata: one\ndata: two\n\n");
  CHECK(sse_frame("x", "") == "event: x\ndata: \n\n");
  CHECK(sse_comment("keep-alive") == ": keep-alive\n\n");
}

TEST_CASE("event ids round-trip and anything else is refused", "[stream]") {
  const EventId id{"k3x9", 42};
  CHECK(parse_event_id(format_event_id(id)) == id);
  CHECK(parse_event_id("abc-0") == EventId{"abc", 0});
  CHECK(parse_event_id("abc-18446744073709551615") == EventId{"abc", 18446744073709551615ULL});
  for (const char* bad :
       {"", "abc", "-1", "abc-", "abc-01", "abc--1", "abc-+1", "ABC-1", "a_b-1", "abc-1x",
        "abc-18446744073709551616", "0123456789abcdefghijklmnopqrstuvw-1", "abc-1-2"}) {
    INFO(bad);
    CHECK_FALSE(parse_event_id(bad).has_value());
  }
}
