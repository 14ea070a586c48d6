#include "evaluator/alerts/flap_detector.hpp"

#include <algorithm>

namespace ste::eval {

bool record_change(FlapState& s, TimePoint now, const FlapSettings& f) {
  const TimePoint horizon = now - f.window;
  s.changes.erase(s.changes.begin(), std::find_if(s.changes.begin(), s.changes.end(),
                                                  [horizon](TimePoint t) { return t > horizon; }));
  s.changes.push_back(now);
  if (s.flapping || f.changes <= 0) return false;
  if (static_cast<int>(s.changes.size()) < f.changes) return false;
  s.flapping = true;
  return true;
}

bool flap_settled(const FlapState& s, TimePoint now, const FlapSettings& f) {
  if (!s.flapping) return false;
  return s.changes.empty() || now - s.changes.back() >= f.window;
}

}  // namespace ste::eval
