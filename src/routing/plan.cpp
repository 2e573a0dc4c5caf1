#include "routing/plan.hpp"

#include <algorithm>
#include <cmath>

namespace anygpt::routing {

namespace {

struct Ranked {
  std::size_t index;
  double rank;
  double key = 0;  // weighted-shuffle key
};

bool in_band(std::optional<double> score, const ScoreBand& band) {
  if (!score) return true;
  if (band.min && *score < *band.min) return false;
  if (band.max && *score > *band.max) return false;
  return true;
}

// Sorts by rank, shuffling the near-best with weights proportional to rank
// (Efraimidis-Spirakis: key = log(u) / w, larger first).
void order_group(std::vector<Ranked>& group, double spread, std::mt19937_64& rng) {
  std::stable_sort(group.begin(), group.end(), [](const Ranked& a, const Ranked& b) { return a.rank > b.rank; });
  if (spread <= 0 || group.size() < 2) return;
  double best = group.front().rank;
  auto near_end = std::find_if(group.begin(), group.end(), [&](const Ranked& r) { return r.rank < best - spread; });
  if (near_end - group.begin() < 2) return;
  std::uniform_real_distribution<double> u(std::nextafter(0.0, 1.0), 1.0);
  for (auto it = group.begin(); it != near_end; ++it) it->key = std::log(u(rng)) / std::max(it->rank, 1.0);
  std::sort(group.begin(), near_end, [](const Ranked& a, const Ranked& b) { return a.key > b.key; });
}

}  // namespace

std::vector<std::size_t> plan_attempts(const HealthBoard& board, const std::vector<std::size_t>& slots,
                                       const ScoreBand& band, double spread, Clock::time_point now,
                                       std::mt19937_64& rng) {
  std::vector<std::size_t> probes, unmeasured;
  std::vector<Ranked> in, out;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    auto v = board.view(slots[i], now);
    if (v.admission == Admission::kBlocked) continue;
    if (v.admission == Admission::kProbe) {
      probes.push_back(i);
    } else if (!v.observed) {
      unmeasured.push_back(i);
    } else {
      (in_band(v.provider_score, band) ? in : out).push_back(Ranked{i, v.rank});
    }
  }
  order_group(in, spread, rng);
  order_group(out, spread, rng);
  std::vector<std::size_t> order = std::move(probes);
  order.insert(order.end(), unmeasured.begin(), unmeasured.end());
  for (const auto& r : in) order.push_back(r.index);
  for (const auto& r : out) order.push_back(r.index);
  return order;
}

}  // namespace anygpt::routing
