// pipeline/hedge: hedged streams (ROUTING_HEDGE_AFTER_MS, docs/ROUTING.md "Hedged streams"). When
// an attempt's first content is late, the next candidate starts in parallel; whichever produces
// content first commits the client's response and the other is cancelled at once. Internal to
// the pipeline.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>

#include "pipeline/attempt.hpp"
#include "server/exchange.hpp"
#include "upstream/client.hpp"

namespace anygpt::pipeline {

// Which of two racing attempts of one request (lane 0: the first, lane 1: the hedge) answers
// the client. The first claim wins and cancels the other lane's upstream call. Single-threaded
// (both lanes run on the request's event loop).
class HedgeGate {
 public:
  // The lane's upstream call, cancelled when the other lane wins or the client leaves; nullptr
  // when the lane's call is over.
  void attach(int lane, upstream::Abort* abort) { aborts_[lane] = abort; }
  // True when `lane` may answer the client: it claimed first (or had claimed already).
  bool claim(int lane);
  bool claimed() const { return winner_ >= 0; }
  bool lost(int lane) const { return winner_ >= 0 && winner_ != lane; }
  int winner() const { return winner_; }
  void abort_all();

 private:
  int winner_ = -1;
  std::array<upstream::Abort*, 2> aborts_{};
};

// A hedge may be sent: a streamed chat request without side effects the gateway cannot see
// (no `store`d completion or Response, no provider-run tools such as web search or code
// execution, not a continuation).
bool hedgeable(const Job& job);

// Starts the hedge's attempt (lane 1 of the gate), or nullopt when it cannot start (its pair
// is out of rotation, the attempts are spent).
using HedgeStart = std::function<std::optional<boost::asio::awaitable<AttemptReport>>()>;

// Runs `first` (lane 0); if it has neither finished nor claimed the gate at `hedge_at`, starts
// the hedge too. Returns when every started attempt has finished, with their reports (a lane that
// lost the race is reported lost: neutral for health). While it runs, the gate (not the attempts)
// watches the client.
struct RaceResult {
  AttemptReport first;
  std::optional<AttemptReport> hedge;  // set when the hedge started
};
boost::asio::awaitable<RaceResult> race(server::Exchange& ex, HedgeGate& gate, Clock::time_point hedge_at,
                                        boost::asio::awaitable<AttemptReport> first, const HedgeStart& start_hedge);

}  // namespace anygpt::pipeline
