#pragma once
/// One labelled child of a new (or already registered, same name and type) metric family: the
/// two builder chains every metrics file needs, in one place.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace ste {

inline prometheus::Counter& add_counter(prometheus::Registry& r, const std::string& name,
                                        const std::string& help,
                                        const prometheus::Labels& labels = {}) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add(labels);
}

inline prometheus::Gauge& add_gauge(prometheus::Registry& r, const std::string& name,
                                    const std::string& help,
                                    const prometheus::Labels& labels = {}) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add(labels);
}

}  // namespace ste
