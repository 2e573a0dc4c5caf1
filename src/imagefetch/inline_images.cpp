#include "imagefetch/inline_images.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/string.hpp>
#include <cctype>
#include <cstdint>
#include <exception>
#include <optional>

#include "core/json_text.hpp"
#include "core/log.hpp"

namespace anygpt::imagefetch {
namespace json = boost::json;

namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

bool is_remote(const json::value& v) {
  if (!v.is_string()) return false;
  std::string_view s = v.get_string();
  return starts_with_ci(s, "http://") || starts_with_ci(s, "https://");
}

// One distinct URL of the request and what fetching it came to.
struct Download {
  explicit Download(std::string u) : url(std::move(u)) {}
  std::string url;
  std::optional<core::Result<Image>> result;  // empty until done (or if the fetch threw)
};

asio::awaitable<void> download(Download& d, const FetchOptions& options, FetchEnv env) {
  auto r = co_await fetch_image(d.url, options, env);
  d.result.emplace(std::move(r));
}

// Runs every download at once on the calling executor and waits for the last one.
asio::awaitable<void> download_all(std::vector<Download>& downloads, const FetchOptions& options, FetchEnv env) {
  auto executor = co_await asio::this_coro::executor;
  auto done = std::make_shared<Waiter>(executor);
  std::size_t pending = downloads.size();
  for (auto& d : downloads)
    asio::co_spawn(executor, download(d, options, env), [&pending, done](std::exception_ptr) {
      if (--pending == 0) done->wake();
    });
  co_await done->wait(Clock::time_point::max());
}

core::Error cannot_inline(const RemoteImage& at, const Download& d) {
  core::Error e = d.result
                      ? d.result->error()
                      : core::make_error(core::ErrorKind::kInternal, "the fetch failed", {}, std::string(kFailedCode));
  e.kind = core::ErrorKind::kInvalidRequest;
  e.param = at.param;
  std::string message = "Cannot inline the image_url at ";
  message.append(at.param).append(" (host '").append(display_host(d.url)).append("'): ").append(e.message);
  e.message = std::move(message);
  return e;
}

void warn_kept(const core::Error& e) {
  if (!core::log_enabled(core::LogLevel::kWarn)) return;
  std::string fields = "\"reason\":";
  core::append_json_string(fields, e.message);
  core::log(core::LogLevel::kWarn, "image URL left for the provider (IMAGE_FETCH_ON_FAILURE=keep)", fields);
}

}  // namespace

std::vector<RemoteImage> remote_images(json::object& request) {
  std::vector<RemoteImage> out;
  auto* messages = request.if_contains("messages");
  if (!messages || !messages->is_array()) return out;
  auto& list = messages->get_array();
  for (std::size_t m = 0; m < list.size(); ++m) {
    auto* content = list[m].is_object() ? list[m].get_object().if_contains("content") : nullptr;
    if (!content || !content->is_array()) continue;
    auto& parts = content->get_array();
    for (std::size_t p = 0; p < parts.size(); ++p) {
      if (!parts[p].is_object()) continue;
      auto& part = parts[p].get_object();
      const auto* type = part.if_contains("type");
      auto* image = part.if_contains("image_url");
      if (!type || !type->is_string() || type->get_string() != "image_url" || !image) continue;
      std::string param = "messages[" + std::to_string(m) + "].content[" + std::to_string(p) + "].image_url";
      auto* url = image->is_object() ? image->get_object().if_contains("url") : image;
      if (image->is_object()) param += ".url";
      if (url && is_remote(*url)) out.emplace_back(url, std::move(param));
    }
  }
  return out;
}

bool may_hold_remote_images(std::string_view body) {
  // (A JSON escape can spell either word: a body with one is walked.)
  constexpr auto npos = std::string_view::npos;
  return (body.find("image_url") != npos && body.find("http") != npos) || body.find("\\u") != npos;
}

void set_data_url(json::value& v, const Image& image) {
  constexpr std::size_t kBlock = 3 * 1024 * 1024;  // EVP_EncodeBlock takes an int length
  const std::size_t encoded = 4 * ((image.bytes.size() + 2) / 3);
  auto& s = v.emplace_string();
  s.reserve(5 + image.mime.size() + 8 + encoded);
  s.append("data:").append(image.mime).append(";base64,");
  std::size_t at = s.size();
  s.resize(at + encoded);  // (a JSON string keeps one byte past its size: EVP_EncodeBlock's NUL)
  for (std::size_t i = 0; i < image.bytes.size(); i += kBlock) {
    const std::size_t n = std::min(kBlock, image.bytes.size() - i);
    at += static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(s.data() + at),
                                                   reinterpret_cast<const unsigned char*>(image.bytes.data() + i),
                                                   static_cast<int>(n)));
  }
}

asio::awaitable<core::Result<std::size_t>> inline_images(json::object& request, const InlineOptions& options,
                                                         FetchEnv env) {
  auto found = remote_images(request);
  // Each distinct URL once; a URL past max_images is refused (or, with keep_failed, left alone).
  std::vector<Download> downloads;
  std::vector<std::size_t> which(found.size(), SIZE_MAX);  // found[i] -> downloads[which[i]]
  for (std::size_t i = 0; i < found.size(); ++i) {
    std::string_view url = found[i].url->get_string();
    for (std::size_t d = 0; d < downloads.size() && which[i] == SIZE_MAX; ++d)
      if (downloads[d].url == url) which[i] = d;
    if (which[i] != SIZE_MAX) continue;
    if (downloads.size() == options.max_images) {
      if (options.keep_failed) continue;
      auto e = refusal("The request has more than " + std::to_string(options.max_images) +
                       " distinct image URLs to inline (IMAGE_FETCH_MAX_IMAGES)");
      e.param = "messages";
      co_return e;
    }
    which[i] = downloads.size();
    downloads.emplace_back(std::string(url));
  }
  if (downloads.empty()) co_return std::size_t{0};
  co_await download_all(downloads, options.fetch, env);

  for (std::size_t i = 0; i < found.size(); ++i) {
    if (which[i] == SIZE_MAX) continue;
    const auto& d = downloads[which[i]];
    if (d.result && d.result->ok()) continue;
    auto error = cannot_inline(found[i], d);
    if (!options.keep_failed) co_return error;
    warn_kept(error);
  }
  std::size_t replaced = 0;
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (which[i] == SIZE_MAX) continue;
    const auto& d = downloads[which[i]];
    if (!d.result || !d.result->ok()) continue;
    set_data_url(*found[i].url, d.result->value());
    ++replaced;
  }
  co_return replaced;
}

}  // namespace anygpt::imagefetch
