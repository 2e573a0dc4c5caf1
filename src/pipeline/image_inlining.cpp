#include "pipeline/image_inlining.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "imagefetch/inline_images.hpp"

namespace anygpt::pipeline {
namespace {

using core::ErrorKind;
using core::make_error;

imagefetch::InlineOptions options_from(const config::Config& c) {
  imagefetch::InlineOptions o;
  o.fetch.policy.allow_private = c.image_fetch_allow_private;
  o.fetch.policy.protocols = c.image_fetch_allowed_protocols;
  o.fetch.policy.hosts = c.image_fetch_allowed_hosts;
  o.fetch.timeout = std::chrono::milliseconds(c.image_fetch_timeout_ms);
  o.fetch.max_bytes = static_cast<std::size_t>(c.image_fetch_max_bytes);
  o.fetch.max_redirects = c.image_fetch_max_redirects;
  o.fetch.user_agent = c.image_fetch_user_agent;
  o.fetch.referer = c.image_fetch_referer;
  o.max_images = static_cast<std::size_t>(c.image_fetch_max_images);
  o.keep_failed = c.image_fetch_keep_failed;
  return o;
}

// What every image fetch of the process shares, built on first use from the (immutable) config.
// Never destroyed: a name lookup still running at exit must not hold the exit up.
struct Shared {
  explicit Shared(const config::Config& c)
      : slots(static_cast<std::size_t>(c.image_fetch_max_concurrency)),
        tls(upstream::make_tls_context()),
        options(options_from(c)) {}
  imagefetch::SystemNetwork network;
  imagefetch::FetchSlots slots;
  std::shared_ptr<boost::asio::ssl::context> tls;
  imagefetch::InlineOptions options;  // without the per-request Referer and Authorization
};

Shared& shared(const config::Config& c) {
  static Shared* s = new Shared(c);
  return *s;
}

// The request's Referer override (x-image-fetch-referer, else x-image-referer), normalised, when
// it is an http(s) URL (the original's rule); else the configured one.
std::string referer_for(const server::Exchange& ex, const std::string& configured) {
  auto value = ex.header("x-image-fetch-referer");
  if (value.empty()) value = ex.header("x-image-referer");
  auto url = boost::urls::parse_uri(value);
  if (value.empty() || !url || (url->scheme() != "http" && url->scheme() != "https")) return configured;
  boost::urls::url u(*url);
  u.normalize();
  return std::string(u.buffer());
}

}  // namespace

boost::asio::awaitable<std::optional<core::Error>> inline_request_images(const Gateway& gw, const server::Exchange& ex,
                                                                         Job& job) {
  const auto& c = gw.config;
  if (!c.image_fetch_inline || !job.object || !job.object->is_object() || job.canon.op != formats::Operation::kChat)
    co_return std::nullopt;
  if (job.canon.same_bytes && !imagefetch::may_hold_remote_images(job.bytes)) co_return std::nullopt;
  auto& request = job.object->as_object();
  if (imagefetch::remote_images(request).empty()) co_return std::nullopt;

  auto& s = shared(c);
  imagefetch::InlineOptions options = s.options;
  options.fetch.referer = referer_for(ex, c.image_fetch_referer);
  if (c.image_fetch_forward_auth) {
    auto credential = ex.header(c.image_fetch_auth_header);
    auto key = extract_api_key(ex, job.protocol.keys);
    if (!key.empty() && credential.find(key) != std::string_view::npos)
      co_return make_error(ErrorKind::kInvalidRequest,
                           "The " + c.image_fetch_auth_header +
                               " header carries your anygpt key: it is forwarded to image hosts and must hold "
                               "their own credential",
                           c.image_fetch_auth_header, "image_credential_is_api_key");
    options.fetch.authorization = std::string(credential);
  }
  imagefetch::FetchEnv env(s.network, *s.tls, s.slots);
  auto replaced = co_await imagefetch::inline_images(request, options, env);
  if (!replaced) co_return replaced.error();
  if (*replaced > 0 && job.canon.same_bytes) {
    job.canonical_bytes = boost::json::serialize(*job.object);
    job.bytes = job.canonical_bytes;
  }
  co_return std::nullopt;
}

}  // namespace anygpt::pipeline
