#pragma once
/// One validated sensor reading, as the ingest contract defines it (docs/DESIGN.md §3).
#include <optional>
#include <string>

#include "common/clock.hpp"

namespace ste::ingest {

struct Reading {
  std::string metric;
  double value = 0;
  TimePoint ts;
  std::optional<std::string> unit;
};

}  // namespace ste::ingest
