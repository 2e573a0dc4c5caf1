// routing/plan: the order in which a request tries the providers of a model. Pure given the
// health board, the clock and the random source.
#pragma once

#include <optional>
#include <random>
#include <vector>

#include "routing/health.hpp"

namespace anygpt::routing {

// A tier's preference: providers whose score lies in [min, max] are tried first (a missing
// bound is open). A provider with no score yet counts as in band: it has to be tried to get one.
struct ScoreBand {
  std::optional<double> min, max;
};

// Orders the HealthBoard slots of one model's candidates. Returns indices into `slots`, best
// first; pairs whose circuit is open are left out.
//  1. pairs due for their half-open probe or recheck come first, so a recovered provider is
//     back within one request of its cool-down ending (a failed probe just fails over);
//  2. then pairs never measured, in file order: one request each gives them a score;
//  3. then in-band pairs, then out-of-band ones; within each, pairs whose rank is within
//     `spread` points of the best are shuffled with weights proportional to rank, so load
//     spreads and near-equals never starve; the rest follow by rank. spread = 0: strict rank
//     order, ties in file order.
std::vector<std::size_t> plan_attempts(const HealthBoard& board, const std::vector<std::size_t>& slots,
                                       const ScoreBand& band, double spread, Clock::time_point now,
                                       std::mt19937_64& rng);

}  // namespace anygpt::routing
