// formats/responses/provider: the provider protocol "openai-responses": an OpenAI-compatible host
// that serves the Responses API itself ({base}/responses). Only /v1/responses clients are sent
// there, with their own bytes (the pipeline's same-protocol passthrough); chat requests are not
// translated to it (encode_request refuses them, so such a candidate is skipped).
#pragma once

#include <memory>

#include "formats/provider.hpp"

namespace anygpt::formats::responses {

const ProviderCodec& provider_codec();

// Watches a Responses event stream relayed untouched: complete at response.completed or
// response.incomplete (usage from its response.usage), failed at response.failed or an `error`
// event (rate_limit_exceeded / server_is_overloaded: kUpstreamUnavailable) and on data that is
// not JSON (a `[DONE]` line some relays add is ignored). Text is counted from the "delta" of
// every other event, which gets one SAX pass.
std::unique_ptr<StreamWatcher> make_stream_watcher();

}  // namespace anygpt::formats::responses
