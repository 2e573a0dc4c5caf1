// pipeline/attempt: one upstream attempt of a request (plain or streamed) and its verdict.
// Internal to the pipeline; dispatch.cpp runs the loop around it.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "formats/codec.hpp"
#include "pipeline/dispatch.hpp"
#include "pipeline/gateway.hpp"
#include "routing/failure.hpp"
#include "routing/health.hpp"
#include "upstream/client.hpp"

namespace anygpt::pipeline {

using routing::Clock;
struct Upload;
struct Seam;
class HedgeGate;

// A decoded request on its way upstream, shared by its attempts. Owned by dispatch().
// (Has a constructor, not aggregate init: GCC 12 double-destroys members of aggregates
// brace-initialised inside coroutines.)
struct Job {
  Job(const formats::Protocol& p, const formats::Codec& c, formats::Canonical canonical)
      : protocol(p), codec(c), canon(std::move(canonical)) {}

  const formats::Protocol& protocol;
  const formats::Codec& codec;
  formats::Canonical canon;
  std::string canonical_bytes;  // serialize(canon.body) when !canon.same_bytes, once an OpenAI host needs it
  // The canonical request: the client's parsed body (same_bytes) or canon.body; null when the
  // request is never translated (every candidate speaks the client's protocol).
  boost::json::value* object = nullptr;
  std::string_view bytes;   // the request as it goes upstream before any rename
  std::string bytes_model;  // the model `bytes` name (for same_bytes the body's own, which may differ from canon.model)
  // The client's own request, for a provider of the client's protocol (forwarded as it is).
  boost::json::value* client_object = nullptr;
  std::string_view client_bytes;
  formats::RouteParams params;         // the route's (for decoding later: a continuation)
  std::vector<std::string> fallbacks;  // the request's own "fallbacks" (catalogue names), tried first
  Clock::time_point started;           // when the request arrived (for encoders' durations)
  bool ask_usage = false;              // splice stream_options.include_usage into the client's bytes
  // An upload route's body (Codec::takes_form): sent from its spool; `object` is then its fields.
  const Upload* upload = nullptr;
  AnswerSink* sink = nullptr;  // the route's, given the answer before the client gets it
  // The request continues a cut stream (pipeline/continuation): `object` ends with the prefill,
  // and no candidate gets the client's own bytes.
  bool continuing = false;
};

// What one attempt came to. `answered`: the client got its answer (or left); otherwise the
// verdict says whether to retry or fail over.
struct AttemptReport {
  bool answered = false;
  bool lost = false;  // lost a hedge race to the other lane (cancelled, neutral for health)
  routing::Verdict verdict;
  routing::Observation obs;
};

// Everything an attempt needs besides the exchange.
struct AttemptContext {
  Gateway& gw;
  upstream::Client& client;
  const Caller& caller;
  const Job& job;
  const routing::Candidate& c;
  std::string_view model;  // the chain model being tried (the answer names it)
  std::string_view body;
  Clock::time_point deadline;
  bool retried;
  core::Error& last;
  bool has_next_model = false;             // a later model of the fallback chain can still be tried
  upstream::BodySource* source = nullptr;  // the body, when it is not `body` (an upload)
  Seam* seam = nullptr;                    // the request's; active: this attempt continues a cut stream
  HedgeGate* gate = nullptr;               // racing a hedge (pipeline/hedge): answers only after claiming it
  int lane = 0;                            // this attempt's lane of the gate
};

// True when the candidate speaks the client's own protocol natively: the client's request goes
// upstream as it is (the model renamed if needed) and the answer comes back untouched. Never for
// a continuation (its request is the canonical one plus the prefill).
bool same_protocol(const Job& job, const routing::Candidate& c);

boost::asio::awaitable<AttemptReport> try_plain(server::Exchange& ex, AttemptContext& a);
// The client probe armed here stays armed for the whole relay: a client that leaves aborts the
// upstream read even while the upstream is silent. A stream cut after content (when the request
// is continuable) is left open and recorded in a.seam: not answered, the caller fails over with
// the job rewritten by prefill(). An attempt with an active seam never answers on its own: its
// failures (a 4xx included) fail over, and the client's error stays the seam's.
boost::asio::awaitable<AttemptReport> try_stream(server::Exchange& ex, AttemptContext& a);

// What an answer without usage is billed: an estimate of the request's input (0 when the request
// was never decoded).
std::int64_t estimated_input_tokens(const Job& job);

std::int64_t wall_ms();
double ms_between(Clock::time_point a, Clock::time_point b);

}  // namespace anygpt::pipeline
