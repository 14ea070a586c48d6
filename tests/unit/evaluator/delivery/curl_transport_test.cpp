// transfer_outcome(): how a finished libcurl transfer becomes an attempt's status or error.
#include "evaluator/delivery/curl_transport.hpp"

#include <catch2/catch.hpp>

using ste::eval::transfer_outcome;

TEST_CASE("a finished transfer records its status and no error", "[curl_transport]") {
  const long status = GENERATE(200L, 302L, 404L, 500L);
  const auto got = transfer_outcome(true, true, status, "");
  CHECK(got.http_status == static_cast<int>(status));
  CHECK(got.error.empty());
}

TEST_CASE("a body that fails after a complete head still records the head's status",
          "[curl_transport]") {
  // Cut by the transport past the body limit, or timed out / reset while the body trickled.
  const char* error = GENERATE("Failure writing output to destination",
                               "Operation timed out after 5000 milliseconds with 70 bytes received",
                               "Recv failure: Connection reset by peer");
  CHECK(transfer_outcome(false, true, 200, error).http_status == 200);
  CHECK(transfer_outcome(false, true, 500, error).http_status == 500);
  CHECK(transfer_outcome(false, true, 500, error).error.empty());
}

TEST_CASE("a transfer that failed before its head ended records the error and no status",
          "[curl_transport]") {
  // The status line arrived but the headers did not end within the timeout.
  auto got = transfer_outcome(false, false, 200, "Operation timed out after 5000 milliseconds");
  CHECK_FALSE(got.http_status);
  CHECK(got.error == "Operation timed out after 5000 milliseconds");
  // Nothing arrived at all.
  got = transfer_outcome(false, false, 0, "Connection refused");
  CHECK_FALSE(got.http_status);
  CHECK(got.error == "Connection refused");
}

TEST_CASE("an interim 1xx head is not an answer when the transfer then fails", "[curl_transport]") {
  // "103 Early Hints" ended, the final head never came.
  const auto got =
      transfer_outcome(false, true, 103, "Operation timed out after 5000 milliseconds");
  CHECK_FALSE(got.http_status);
  CHECK_FALSE(got.error.empty());
}

TEST_CASE("a failure without a message still records an error", "[curl_transport]") {
  const auto got = transfer_outcome(false, false, 0, "");
  CHECK_FALSE(got.http_status);
  CHECK(got.error == "no response");
}
