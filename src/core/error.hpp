// core: vocabulary types shared by every layer (errors, usage, results). Depends on std only.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace anygpt::core {

// What went wrong, independent of any wire format. Each format renders it in its own shape;
// http_status() is the single mapping to an HTTP status.
enum class ErrorKind {
  kInvalidRequest,       // malformed JSON or a bad field: the client's mistake
  kUnauthorized,         // missing or unknown key
  kForbidden,            // key valid but not allowed (e.g. not admin)
  kNotFound,             // unknown route or model
  kMethodNotAllowed,     // known path, wrong method
  kConflict,             // resource already exists
  kPayloadTooLarge,      // body over the configured limit
  kQuotaExceeded,        // the key's token quota is used up
  kRateLimited,          // too many requests
  kUpstreamError,        // the provider answered with garbage or an error we cannot pass on
  kUpstreamUnavailable,  // no provider could be reached
  kUpstreamTimeout,      // the provider did not answer in time
  kInsufficientStorage,  // the gateway could not store what it must keep (e.g. an upload spool)
  kInternal,             // our bug
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;   // human readable; names what was wrong, never contains a secret
  std::string param;     // the offending request field, if any
  std::string code;      // machine readable code (e.g. "invalid_api_key"), may be empty
  std::string provider;  // provider that produced it, if any
  int upstream_status = 0;
};

unsigned http_status(ErrorKind kind);
// OpenAI-style error type string ("invalid_request_error", ...).
const char* error_type(ErrorKind kind);

inline Error make_error(ErrorKind kind, std::string message, std::string param = {}, std::string code = {}) {
  return Error{kind, std::move(message), std::move(param), std::move(code), {}, 0};
}

// A value or an Error. Errors are values on the request path; exceptions only at start-up.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace anygpt::core
