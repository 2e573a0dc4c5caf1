#pragma once

#include "formats/codec.hpp"
#include "pipeline/gateway.hpp"
#include "upstream/client.hpp"

namespace anygpt::pipeline {

// Receives a request's successful non-stream answer just before it goes to the client, and may
// amend it: a route that keeps answers for later polls (POST /v1/interactions) stores it and
// gives it its id. Called at most once per request, on the request's thread; never for errors
// or streams.
class AnswerSink {
 public:
  virtual ~AnswerSink() = default;
  virtual void keep(server::Response& answer) = 0;
};

// What a route hands the dispatcher: the client's protocol, the codec of the operation and what
// the path said. All three outlive the request (protocols and codecs are static); `sink`, when
// set, outlives the dispatch() call.
struct Route {
  const formats::Protocol& protocol;
  const formats::Codec& codec;
  formats::RouteParams params;
  AnswerSink* sink = nullptr;
};

// The one request pipeline for every client protocol and model operation: authenticates (the
// protocol's key sources), applies quota and rate limits, decodes the body into the canonical
// request, finds the model (or the protocol's alternate name), then runs the attempt loop over
// the model and its fallbacks (health-ordered candidates, retries, failover; see attempt.hpp),
// relays or translates the answer and accounts usage. Errors reach the client in the protocol's
// shape. The loop knows no wire format. `client` is the calling thread's upstream client.
boost::asio::awaitable<void> dispatch(Gateway& gw, server::Exchange& ex, upstream::Client& client, Route route);

// The catalogue name serving `model`: itself, else the protocol's alternate name ("" if none).
// The view points into `model` or `catalog`.
std::string_view served_model(const routing::Catalog& catalog, const formats::Protocol& protocol,
                              std::string_view model);

}  // namespace anygpt::pipeline
