// pipeline/image_inlining: the pipeline's one call into imagefetch/. A decoded chat request's
// http(s) image URLs are fetched and inlined as data URLs before its attempts, when
// IMAGE_FETCH_INLINE is on (docs/IMAGE_FETCH.md).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "core/error.hpp"
#include "pipeline/attempt.hpp"
#include "pipeline/gateway.hpp"
#include "server/exchange.hpp"

namespace anygpt::pipeline {

// With IMAGE_FETCH_INLINE on and a decoded chat request (job.object set) holding http(s) image
// URLs: replaces them by data URLs in job.object, and re-serialises job.bytes when the client's
// bytes were forwarded as they are (same_bytes). Returns the error to answer (400) when an image
// cannot be inlined and IMAGE_FETCH_ON_FAILURE is reject, or when the forwarded image credential
// carries the caller's anygpt key; nullopt otherwise. The image hosts get none of the client's
// headers but, with IMAGE_FETCH_FORWARD_AUTH, the value of IMAGE_FETCH_AUTH_HEADER.
// REQUIRES: on the request's event-loop thread.
boost::asio::awaitable<std::optional<core::Error>> inline_request_images(const Gateway& gw, const server::Exchange& ex,
                                                                         Job& job);

}  // namespace anygpt::pipeline
