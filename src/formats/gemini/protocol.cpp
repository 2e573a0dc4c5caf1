#include <boost/json.hpp>

#include "formats/gemini/gemini.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

// The google.rpc.Code name Gemini reports next to an HTTP status.
std::string_view status_name(unsigned http_status) {
  switch (http_status) {
    case 400:
    case 405:
    case 409:
    case 413: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 429: return "RESOURCE_EXHAUSTED";
    case 502:
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return "INTERNAL";
  }
}

unsigned error_status(const core::Error& error) {
  return core::http_status(error.kind);
}

}  // namespace

std::string error_body(const core::Error& error) {
  unsigned status = error_status(error);
  json::object e{{"code", status}, {"message", error.message}, {"status", status_name(status)}};
  return json::serialize(json::object{{"error", std::move(e)}});
}

const Protocol& protocol() {
  static const Protocol kProtocol{
      "gemini", KeySources{true, {"x-goog-api-key"}, "key"}, &error_body, &error_status, false, nullptr};
  return kProtocol;
}

std::string_view strip_model_prefix(std::string_view model) {
  constexpr std::string_view kPrefix = "models/";
  if (model.starts_with(kPrefix)) model.remove_prefix(kPrefix.size());
  return model;
}

}  // namespace anygpt::formats::gemini
