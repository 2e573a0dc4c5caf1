// imagefetch/fetcher: the I/O. Fetches one image URL under the address policy: resolve once,
// check every address, connect to a checked one, follow redirects (each hop checked again), one
// deadline over everything, a byte cap enforced while the body streams in, image bytes only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <string>

#include "core/error.hpp"
#include "imagefetch/address_policy.hpp"
#include "imagefetch/network.hpp"

namespace anygpt::imagefetch {

// The original's default User-Agent (a desktop Chrome): some image hosts refuse unknown agents.
inline constexpr std::string_view kDefaultUserAgent =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";

// How one URL is fetched. Immutable during the fetch.
struct FetchOptions {
  UrlPolicy policy;
  std::chrono::milliseconds timeout{15000};  // one deadline over every hop and the body
  std::size_t max_bytes = 8 * 1024 * 1024;   // the body's cap, enforced while it streams in
  int max_redirects = 3;                     // redirects followed (so at most 4 requests)
  std::string user_agent{kDefaultUserAgent};
  std::string referer;  // sent as Referer on every hop ("" = none); REQUIRES: no CR or LF
  // Sent as Authorization to hops whose host is the first URL's host, never to another host a
  // redirect leads to ("" = none). Never the caller's anygpt key (the pipeline sees to that).
  // REQUIRES: no CR or LF.
  std::string authorization;
};

// A fetched image: its MIME type (from its magic bytes) and its bytes.
struct Image {
  Image(std::string m, std::string b) : mime(std::move(m)), bytes(std::move(b)) {}
  std::string mime;
  std::string bytes;
};

// What fetches share: the network, the TLS context (peer verification against the system trust
// store, as upstream::make_tls_context builds it) and the process-wide cap. All outlive the fetch.
struct FetchEnv {
  FetchEnv(Network& n, asio::ssl::context& t, FetchSlots& s) : network(n), tls(t), slots(s) {}
  Network& network;
  asio::ssl::context& tls;
  FetchSlots& slots;
};

// Fetches `url`. Errors are kInvalidRequest values whose message is the reason (naming a redirect
// target's host, never a URL's path or query): code kRefusedCode when the policy refuses (a
// protocol, host or address, a non-image type or body, the size cap, too many redirects, a loop),
// kFailedCode when the fetch fails (no address, no connection, TLS, an HTTP error, the deadline).
// No connection is reused; nothing is sent but the request head (GET, Host, User-Agent, Accept,
// Accept-Encoding: identity, Referer, Authorization as above, Connection: close).
// REQUIRES: on an event-loop thread whose core::Watchdog ticks (every server thread's does).
asio::awaitable<core::Result<Image>> fetch_image(std::string url, const FetchOptions& options, FetchEnv env);

}  // namespace anygpt::imagefetch
