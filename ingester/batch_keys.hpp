#pragma once
/// The batch's uniqueness keys (tenant, device, metric, ts at microseconds, as stored): what makes
/// the summary describe the rows the database holds, not the values a device happened to send.
/// Both run only when the write inserted fewer rows than the batch held (the common path skips
/// them):
/// - apply_stored_values: for keys stored with another value (a device that re-sent a reading
///   with a new value, a redelivery, or a key repeated within the batch), the stored value
///   replaces ours;
/// - drop_repeated_keys: then one reading per key, so the summary counts each stored row once.
/// Pure functions.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "ingester/batch_buffer.hpp"

namespace ste::ingest {

/// A key of the batch whose row in `readings` holds a different value than the batch's reading.
struct StoredValue {
  std::int64_t tenant_id = 0;
  std::int64_t device_id = 0;
  std::string metric;
  std::int64_t ts_us = 0;  ///< epoch microseconds, the stored precision
  double value = 0;
};

/// Removes every reading whose key already occurred earlier in `readings`, keeping the order of
/// the rest. Returns how many were removed. O(n) expected; no allocation beyond one hash table.
std::size_t drop_repeated_keys(std::vector<BufferedReading>& readings);

/// Sets the value of each reading whose key is in `stored` to the stored value. Returns how many
/// readings changed. Every reading of a repeated key takes the stored value.
std::size_t apply_stored_values(std::span<BufferedReading> readings,
                                std::span<const StoredValue> stored);

}  // namespace ste::ingest
