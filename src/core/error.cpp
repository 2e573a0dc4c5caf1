#include "core/error.hpp"

namespace anygpt::core {

unsigned http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidRequest: return 400;
    case ErrorKind::kUnauthorized: return 401;
    case ErrorKind::kForbidden: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kMethodNotAllowed: return 405;
    case ErrorKind::kConflict: return 409;
    case ErrorKind::kPayloadTooLarge: return 413;
    case ErrorKind::kQuotaExceeded: return 429;
    case ErrorKind::kRateLimited: return 429;
    case ErrorKind::kUpstreamError: return 502;
    case ErrorKind::kUpstreamUnavailable: return 503;
    case ErrorKind::kUpstreamTimeout: return 504;
    case ErrorKind::kInsufficientStorage: return 507;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}

const char* error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidRequest:
    case ErrorKind::kNotFound:
    case ErrorKind::kMethodNotAllowed:
    case ErrorKind::kConflict:
    case ErrorKind::kPayloadTooLarge: return "invalid_request_error";
    case ErrorKind::kUnauthorized: return "authentication_error";
    case ErrorKind::kForbidden: return "permission_error";
    case ErrorKind::kQuotaExceeded: return "insufficient_quota";
    case ErrorKind::kRateLimited: return "rate_limit_error";
    case ErrorKind::kUpstreamError:
    case ErrorKind::kUpstreamUnavailable:
    case ErrorKind::kUpstreamTimeout: return "upstream_error";
    case ErrorKind::kInsufficientStorage:
    case ErrorKind::kInternal: return "server_error";
  }
  return "server_error";
}

}  // namespace anygpt::core
