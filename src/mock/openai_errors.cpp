#include "mock/openai_errors.hpp"

#include "mock/json_text.hpp"

namespace anygpt::mock {

core::Error invalid_request(std::string message, std::string param) {
  return core::make_error(core::ErrorKind::kInvalidRequest, std::move(message), std::move(param));
}
namespace {

struct StatusDefaults {
  std::string_view type;
  std::string_view code;
  std::string_view message;
};

// Bodies modelled on what api.openai.com answers for each status
// (https://platform.openai.com/docs/guides/error-codes).
StatusDefaults defaults_for(unsigned status) {
  switch (status) {
    case 400: return {"invalid_request_error", "", "Mock fault: the request was rejected."};
    case 401:
      return {"invalid_request_error", "invalid_api_key",
              "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."};
    case 403:
      return {"invalid_request_error", "unsupported_country_region_territory",
              "Country, region, or territory not supported"};
    case 404: return {"invalid_request_error", "model_not_found", ""};
    case 429: return {"requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."};
    case 503: return {"server_error", "", "The engine is currently overloaded, please try again later."};
    default: break;
  }
  if (status >= 500)
    return {"server_error", "", "The server had an error while processing your request. Sorry about that!"};
  return {"invalid_request_error", "", "Mock fault: the request failed."};
}

}  // namespace

std::string error_body(std::string_view message, std::string_view type, std::string_view param, std::string_view code) {
  std::string out;
  out.reserve(64 + message.size());
  out += "{\"error\":{\"message\":";
  append_json_string(out, message);
  out += ",\"type\":";
  append_json_string(out, type);
  out += ",\"param\":";
  if (param.empty()) {
    out += "null";
  } else {
    append_json_string(out, param);
  }
  out += ",\"code\":";
  if (code.empty()) {
    out += "null";
  } else {
    append_json_string(out, code);
  }
  out += "}}";
  return out;
}

std::string error_body(const core::Error& error) {
  return error_body(error.message, core::error_type(error.kind), error.param, error.code);
}

std::string status_error_body(const StatusErrorOptions& o) {
  auto d = defaults_for(o.status);
  std::string message(o.message.empty() ? d.message : o.message);
  if (message.empty())  // 404
    message = "The model `" + std::string(o.model) + "` does not exist or you do not have access to it.";
  return error_body(message, o.type.empty() ? d.type : o.type, {}, o.code.empty() ? d.code : o.code);
}

}  // namespace anygpt::mock
