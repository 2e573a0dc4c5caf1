// mock: OpenAI-shaped error answers ({"error":{"message","type","param","code"}}).
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace anygpt::mock {

// A 400 invalid_request_error naming `param`.
core::Error invalid_request(std::string message, std::string param);

// {"error":{...}}; an empty param or code is rendered as null.
std::string error_body(std::string_view message, std::string_view type, std::string_view param = {},
                       std::string_view code = {});
std::string error_body(const core::Error& error);

// What OpenAI sends for `status` (type, code and message), with `message`/`code`/`type`
// overriding the defaults when non-empty. Used by the "status" fault and MOCK_ERROR_RATE.
struct StatusErrorOptions {
  unsigned status = 500;
  std::string_view message;
  std::string_view type;
  std::string_view code;
  std::string_view model;  // named in the default 404 message
};
std::string status_error_body(const StatusErrorOptions& options);

}  // namespace anygpt::mock
