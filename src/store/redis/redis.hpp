// store/redis: a small Redis client speaking RESP over Asio (TCP or TLS), parsing replies with
// hiredis' reader. Asynchronous: every call is a coroutine on the connection's io_context and
// never blocks the thread; a deadline bounds every call.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace anygpt::store::redis {

namespace asio = boost::asio;

// One RESP value.
struct Reply {
  enum class Type { kNil, kStatus, kError, kInteger, kString, kArray };
  Type type = Type::kNil;
  std::int64_t integer = 0;
  std::string str;              // kStatus, kError, kString
  std::vector<Reply> elements;  // kArray
};

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "6379";
  std::string username;  // ACL user (AUTH user pass); empty = AUTH pass only
  std::string password;  // empty = no AUTH
  int db = 0;            // SELECT when not 0
  bool tls = false;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{2000};
};

// "host:port", "host", "[v6]:port", "redis://[user:pass@]host[:port][/db]", "rediss://..." (TLS);
// user and password are percent-decoded. Bad input is kInvalidRequest naming the bad part and
// never quoting the URL. Explicit username/password/db/tls settings are applied on top by the caller.
core::Result<Options> parse_url(std::string_view url);

// One connection. Not thread-safe and not re-entrant: one coroutine at a time uses it (its owner
// serialises calls); close() may also be called while a call is suspended (it then fails).
// After any failure the connection is closed; call connect() again. Failures: kUpstreamUnavailable
// (cannot connect, "redis: connection lost: ..."), kUpstreamTimeout ("redis: no reply within N ms"),
// kUpstreamError (AUTH/SELECT/SUBSCRIBE rejected, malformed RESP). No message contains the password.
// REQUIRES: no call is suspended when the Connection is destroyed or connect() is called.
class Connection {
 public:
  // `tls` is used when options.tls (peer verification and SNI on, like upstream/); null means a
  // context trusting the system CAs.
  Connection(asio::io_context& ioc, Options options, std::shared_ptr<asio::ssl::context> tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves, connects (TLS handshake if asked) within connect_timeout, then AUTH and SELECT as
  // configured within command_timeout.
  asio::awaitable<core::Result<bool>> connect();
  bool connected() const;
  void close();

  // Sends the commands in one write and reads their replies in order (a Redis error reply is a
  // Reply of type kError, not a failure). Fails (kUpstreamUnavailable / kUpstreamTimeout) on
  // I/O errors or when the replies do not arrive within command_timeout.
  asio::awaitable<core::Result<std::vector<Reply>>> pipeline(const std::vector<std::vector<std::string>>& commands);
  asio::awaitable<core::Result<Reply>> command(const std::vector<std::string>& args);

  // Pub/sub: after subscribe() the connection only delivers messages (pipeline() is refused).
  // next_message() waits up to `wait` and returns nullopt on timeout (the connection stays
  // usable; a partly received message is kept); a message is returned as {channel, payload}.
  asio::awaitable<core::Result<bool>> subscribe(const std::vector<std::string>& channels);
  struct Message {
    std::string channel, payload;
  };
  asio::awaitable<core::Result<std::optional<Message>>> next_message(std::chrono::milliseconds wait);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// RESP encoding of one command (an array of bulk strings). Pure.
void append_command(std::string& out, const std::vector<std::string>& args);

}  // namespace anygpt::store::redis
