#include "pipeline/hedge.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "core/log.hpp"
#include "formats/common/chunks.hpp"

namespace anygpt::pipeline {
namespace json = boost::json;
namespace asio = boost::asio;

bool HedgeGate::claim(int lane) {
  if (winner_ >= 0) return winner_ == lane;
  winner_ = lane;
  if (auto* other = aborts_[1 - lane]) other->trigger();
  return true;
}

void HedgeGate::abort_all() {
  for (auto* a : aborts_)
    if (a) a->trigger();
}

namespace {

// A tool the provider runs itself (web search, code execution...), in any protocol's shape:
// anything but a function the client runs.
bool provider_runs(const json::value& tool) {
  const auto* o = tool.if_object();
  if (!o) return false;
  if (o->contains("functionDeclarations")) return false;  // Gemini's client tools
  auto type = formats::common::str(*o, "type");
  return !(type.empty() || type == "function" || type == "custom");  // OpenAI, Ollama, Anthropic client tools
}

}  // namespace

bool hedgeable(const Job& job) {
  if (job.canon.op != formats::Operation::kChat || !job.canon.stream || job.continuing) return false;
  const auto* request = job.client_object ? job.client_object->if_object() : nullptr;
  if (!request) return false;
  const auto* store = request->if_contains("store");
  const bool stores = store ? store->is_bool() && store->get_bool() : job.protocol.name == "openai-responses";
  if (stores || request->contains("web_search_options")) return false;  // (OpenAI chat's provider-run search)
  if (const auto* tools = request->if_contains("tools"); tools && tools->is_array())
    for (const auto& t : tools->get_array())
      if (provider_runs(t)) return false;
  return true;
}

namespace {

// Wakes the race's waiter when a lane finishes. (A plain function: GCC 12 mishandles capturing
// lambdas made inside coroutines' co_await expressions.)
auto on_done(std::optional<AttemptReport>& report, asio::steady_timer& wake) {
  return [&report, &wake](std::exception_ptr error, AttemptReport r) {
    if (error) {
      core::log(core::LogLevel::kError, "a hedged attempt failed with an exception");
      r = AttemptReport{};
    }
    report = r;
    wake.cancel();
  };
}

void watch_for_gate(server::Exchange& ex, HedgeGate& gate) {
  ex.watch_client([&gate] { gate.abort_all(); });
}

}  // namespace

asio::awaitable<RaceResult> race(server::Exchange& ex, HedgeGate& gate, Clock::time_point hedge_at,
                                 asio::awaitable<AttemptReport> first, const HedgeStart& start_hedge) {
  auto exec = co_await asio::this_coro::executor;
  asio::steady_timer wake(exec, hedge_at);
  std::optional<AttemptReport> first_report, hedge_report;
  bool hedged = false;
  watch_for_gate(ex, gate);
  asio::co_spawn(exec, std::move(first), on_done(first_report, wake));
  boost::system::error_code ec;
  co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));  // hedge time, or the first ended
  if (!first_report && !gate.claimed() && !ex.client_gone()) {
    auto second = start_hedge();
    if (second) {
      hedged = true;
      asio::co_spawn(exec, std::move(*second), on_done(hedge_report, wake));
    }
  }
  while (!first_report || (hedged && !hedge_report)) {
    wake.expires_at(Clock::time_point::max());
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  ex.unwatch_client();
  RaceResult result;
  result.first = *first_report;
  if (hedged) result.hedge = *hedge_report;
  for (int lane = 0; lane < 2; ++lane) {
    auto* rep = lane == 0 ? &result.first : result.hedge ? &*result.hedge : nullptr;
    if (rep && gate.lost(lane) && !rep->answered) {  // cancelled by the winner: not the provider's fault
      rep->lost = true;
      rep->obs.outcome = routing::Outcome::kNeutral;
    }
  }
  co_return result;
}

}  // namespace anygpt::pipeline
