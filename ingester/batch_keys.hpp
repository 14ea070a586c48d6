#pragma once
/// The batch's uniqueness keys (tenant, device, metric, ts at microseconds, as stored): what makes
/// the summary describe the rows the database holds, not the values a device happened to send.
/// - drop_repeated_keys: one reading per key before the write, the first occurrence winning, as
///   the database would keep it (first write wins).
/// - apply_stored_values: for keys that were already stored with another value (a device that
///   re-sent a reading with a new value, or a redelivery), the stored value replaces ours.
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
/// The same, also moving each message's end (`ends`, ascending indexes into `readings`, as in
/// Batch::ends) to where its remaining readings now end.
std::size_t drop_repeated_keys(std::vector<BufferedReading>& readings,
                               std::vector<std::size_t>& ends);

/// Sets the value of each reading whose key is in `stored` to the stored value. Returns how many
/// readings changed. `readings` must not repeat keys (drop_repeated_keys first).
std::size_t apply_stored_values(std::span<BufferedReading> readings,
                                std::span<const StoredValue> stored);

}  // namespace ste::ingest
