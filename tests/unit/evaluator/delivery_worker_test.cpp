#include "evaluator/delivery_worker.hpp"

#include <catch2/catch.hpp>

using ste::eval::transfer_outcome;

TEST_CASE("a finished transfer records its status and no error", "[delivery_worker]") {
  const long status = GENERATE(200L, 302L, 404L, 500L);
  const auto got = transfer_outcome(true, true, status, "");
  CHECK(got.http_status == static_cast<int>(status));
  CHECK(got.error.empty());
}

TEST_CASE("a body that fails after a complete head still records the head's status",
          "[delivery_worker]") {
  // Cut by the worker past the body limit, or timed out / reset while the body trickled.
  const char* error = GENERATE("Failure writing output to destination",
                               "Operation timed out after 5000 milliseconds with 70 bytes received",
                               "Recv failure: Connection reset by peer");
  CHECK(transfer_outcome(false, true, 200, error).http_status == 200);
  CHECK(transfer_outcome(false, true, 500, error).http_status == 500);
  CHECK(transfer_outcome(false, true, 500, error).error.empty());
}

TEST_CASE("a transfer that failed before its head ended records the error and no status",
          "[delivery_worker]") {
  // The status line arrived but the headers did not end within the timeout.
  auto got = transfer_outcome(false, false, 200, "Operation timed out after 5000 milliseconds");
  CHECK_FALSE(got.http_status);
  CHECK(got.error == "Operation timed out after 5000 milliseconds");
  // Nothing arrived at all.
  got = transfer_outcome(false, false, 0, "Connection refused");
  CHECK_FALSE(got.http_status);
  CHECK(got.error == "Connection refused");
}

TEST_CASE("an interim 1xx head is not an answer when the transfer then fails",
          "[delivery_worker]") {
  // "103 Early Hints" ended, the final head never came.
  const auto got =
      transfer_outcome(false, true, 103, "Operation timed out after 5000 milliseconds");
  CHECK_FALSE(got.http_status);
  CHECK_FALSE(got.error.empty());
}

TEST_CASE("a failure without a message still records an error", "[delivery_worker]") {
  const auto got = transfer_outcome(false, false, 0, "");
  CHECK_FALSE(got.http_status);
  CHECK(got.error == "no response");
}

TEST_CASE("a URL at its in-flight cap is skipped by the next claim, others are not",
          "[delivery_worker]") {
  using ste::eval::saturated_urls;
  // One entry per request in flight: 8 to the hub, 7 to the workflow engine, 9 to another URL.
  std::vector<std::string> in_flight;
  in_flight.insert(in_flight.end(), 8, "http://hub/api/events");
  in_flight.insert(in_flight.end(), 7, "http://wf/hook");
  in_flight.insert(in_flight.end(), 9, "http://other/x");
  CHECK(saturated_urls(in_flight, 8) ==
        std::vector<std::string>{"http://hub/api/events", "http://other/x"});
  CHECK(saturated_urls(in_flight, 10).empty());
  CHECK(saturated_urls({}, 1).empty());
  CHECK(saturated_urls(in_flight, 1).size() == 3);
}
