#pragma once

#include "pipeline/gateway.hpp"
#include "upstream/client.hpp"

namespace anygpt::pipeline {

// POST /v1/chat/completions: validates, forwards the request complete to an OpenAI-compatible
// provider, relays the answer (streams chunk by chunk) and accounts usage.
// `client` is the calling thread's upstream client.
boost::asio::awaitable<void> chat_completions(Gateway& gw, server::Exchange& ex, upstream::Client& client);

}  // namespace anygpt::pipeline

namespace anygpt::pipeline {
// The upstream client of the calling event-loop thread (set once per thread at start).
void set_thread_client(upstream::Client* client);
upstream::Client& thread_client();
}  // namespace anygpt::pipeline
