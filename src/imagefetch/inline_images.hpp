// imagefetch/inline_images: the http(s) image URLs of a canonical (OpenAI chat) request, fetched
// in parallel and replaced by data URLs before the request goes upstream.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "imagefetch/fetcher.hpp"

namespace anygpt::imagefetch {

struct InlineOptions {
  FetchOptions fetch;
  std::size_t max_images = 8;  // distinct URLs fetched per request (IMAGE_FETCH_MAX_IMAGES)
  // IMAGE_FETCH_ON_FAILURE=keep: a URL that cannot be inlined (or one past max_images) is left
  // for the provider, with a warning in the log; otherwise the request is refused.
  bool keep_failed = false;
};

// A remote image URL of a request: the JSON string holding it and where it is.
struct RemoteImage {
  RemoteImage(boost::json::value* u, std::string p) : url(u), param(std::move(p)) {}
  boost::json::value* url;
  std::string param;  // "messages[0].content[1].image_url.url"
};

// PURE. The http(s) URLs (scheme in any case) of the image_url parts of messages[].content[], as
// {"image_url":{"url":...}} or a bare "image_url":"..." (OpenRouter's form), in request order.
// Data URLs, other schemes and other parts are not listed.
std::vector<RemoteImage> remote_images(boost::json::object& request);

// PURE. False when a request's bytes cannot hold a remote image URL (no "image_url" or no "http",
// and no JSON \u escape that could spell them): most requests are spared the walk.
bool may_hold_remote_images(std::string_view body);

// PURE. Sets `v` to the string "data:<mime>;base64,<bytes in standard base64>", written in place
// (in v's storage).
void set_data_url(boost::json::value& v, const Image& image);

// Fetches every remote image URL of `request` (each distinct URL once, all at the same time; the
// process-wide cap may queue some) and replaces each with its data URL; returns how many URLs
// were replaced. A URL that cannot be inlined fails the whole request (kInvalidRequest naming the
// part, the URL's host and the reason; code kRefusedCode or kFailedCode, param the part's URL), the
// first one in request order, and nothing is replaced; unless keep_failed. Never the URL's path or
// query in a message or a log line.
// REQUIRES: as fetch_image; `request` was validated as an OpenAI chat request.
asio::awaitable<core::Result<std::size_t>> inline_images(boost::json::object& request, const InlineOptions& options,
                                                         FetchEnv env);

}  // namespace anygpt::imagefetch
