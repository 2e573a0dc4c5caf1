#include "server/exchange.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>
#include <cerrno>
#include <cstdio>

#include "server/connection_gate.hpp"
#include "server/http_server.hpp"

namespace anygpt::server {
namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

void append_status_line(std::string& out, unsigned status) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  auto reason = http::obsolete_reason(static_cast<http::status>(status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
}

bool origin_allowed(std::string_view list, std::string_view origin) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == origin) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}
}  // namespace

std::string_view Exchange::query() const {
  std::string_view target(request_.target().data(), request_.target().size());
  auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

std::string_view Exchange::query_value(std::string_view name) const {
  auto q = query();
  while (!q.empty()) {
    auto amp = q.find('&');
    auto pair = q.substr(0, amp);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return {};
}

std::string_view Exchange::header(http::field f) const {
  auto it = request_.find(f);
  return it == request_.end() ? std::string_view{} : std::string_view(it->value().data(), it->value().size());
}

std::string_view Exchange::header(std::string_view name) const {
  auto it = request_.find(name);
  return it == request_.end() ? std::string_view{} : std::string_view(it->value().data(), it->value().size());
}

void Exchange::build_head(unsigned status, std::string_view content_type, const Headers& headers,
                          std::size_t content_length, bool chunked) {
  auto& out = head_;
  out.clear();
  append_status_line(out, status);
  if (!content_type.empty()) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  for (const auto& [k, v] : headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  for (std::size_t i = 0; i < extra_count_; ++i) {
    out += extra_headers_[i].first;
    out += ": ";
    out += extra_headers_[i].second;
    out += "\r\n";
  }
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n";
  } else {
    out += "Content-Length: ";
    out += std::to_string(content_length);
    out += "\r\n";
  }
  out += "x-request-id: ";
  out += request_id_;
  out += "\r\n";
  const auto& cors = shared_.options.cors;
  if (cors.origins == "*") {
    out += "Access-Control-Allow-Origin: *\r\n";
  } else if (auto origin = header(http::field::origin); !origin.empty() && origin_allowed(cors.origins, origin)) {
    out += "Access-Control-Allow-Origin: ";
    out += origin;
    out += "\r\nVary: Origin\r\n";
  }
  // (A body left unread cannot be skipped reliably: the connection ends with this answer.)
  keep_alive_ =
      request_keep_alive_ && !shared_.draining.load(std::memory_order_relaxed) && (!reader_ || reader_->done());
  if (!keep_alive_) out += "Connection: close\r\n";
  out += "\r\n";
}

asio::awaitable<void> Exchange::reply(Response response) {
  response_ = std::move(response);
  return send_response();
}

asio::awaitable<void> Exchange::send_response() {
  const Response& response = response_;
  answered_ = true;
  status_ = response.status;
  if (capture_) {
    Headers headers = response.headers;
    for (std::size_t i = 0; i < extra_count_; ++i)
      headers.emplace_back(std::string(extra_headers_[i].first), extra_headers_[i].second);
    co_await capture_->reply(response, headers);
    co_return;
  }
  build_head(response.status, response.content_type, response.headers, response.body.size(), false);
  std::array<asio::const_buffer, 2> bufs{asio::buffer(head_), asio::buffer(response.body)};
  if (request_.method() == http::verb::head) bufs[1] = asio::const_buffer{};
  co_await write_all(bufs);
}

asio::awaitable<bool> Exchange::begin_stream(unsigned status, std::string_view content_type, Headers headers) {
  stream_headers_ = std::move(headers);
  return send_stream_head(status, content_type);
}

asio::awaitable<bool> Exchange::send_stream_head(unsigned status, std::string_view content_type) {
  answered_ = true;
  streaming_ = true;
  status_ = status;
  if (capture_) {
    const bool open = co_await capture_->begin_stream(status, content_type, stream_headers_);
    if (!open) broken_ = true;
    co_return !broken_;
  }
  build_head(status, content_type, stream_headers_, 0, true);
  co_await write_all(asio::buffer(head_));
  co_return !broken_;
}

asio::awaitable<bool> Exchange::write_chunk(std::string_view data) {
  if (broken_) co_return false;
  if (data.empty()) co_return true;  // an empty chunk would end the body
  if (capture_) {
    const bool taken = co_await capture_->write_chunk(data);
    if (!taken) broken_ = true;
    co_return !broken_;
  }
  char size_line[24];
  int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
  std::array<asio::const_buffer, 3> bufs{asio::buffer(size_line, static_cast<std::size_t>(len)),
                                         asio::buffer(data.data(), data.size()), asio::buffer("\r\n", 2)};
  co_await write_all(bufs);
  probe_.seen_once = false;  // a write that went through says the client is there
  co_return !broken_;
}

asio::awaitable<bool> Exchange::end_stream() {
  if (broken_) co_return false;
  if (capture_) {
    const bool ended = co_await capture_->end_stream();
    if (!ended) broken_ = true;
    co_return !broken_;
  }
  co_await write_all(asio::buffer("0\r\n\r\n", 5));
  co_return !broken_;
}

template <typename Buffers>
asio::awaitable<void> Exchange::write_all(const Buffers& buffers) {
  const auto timeout = shared_.options.write_timeout_ms;
  if (timeout > 0)
    write_watch_.arm(core::Watchdog::for_this_thread(), core::SteadyClock::now() + std::chrono::milliseconds(timeout));
  auto [ec, n] = co_await asio::async_write(socket_, buffers, kTuple);
  write_watch_.disarm();
  if (ec) broken_ = true;
}

void Exchange::WriteWatch::on_deadline() {
  ex_.shared_.timed_out.fetch_add(1, std::memory_order_relaxed);
  beast::error_code ec;
  ex_.socket_.cancel(ec);
}

void Exchange::mark_authenticated() const {
  if (ticket_) ticket_->authenticated();
}

asio::ip::tcp::socket& Exchange::upgrade() {
  answered_ = true;
  status_ = 101;
  keep_alive_ = false;
  request_keep_alive_ = false;
  return socket_;
}

std::unique_ptr<Exchange> Exchange::sibling(const RequestHead& head, std::string* body, std::string request_id,
                                            std::string& scratch, AnswerCapture& capture) {
  auto ex = std::make_unique<Exchange>(socket_, head, false, body, std::move(request_id), shared_, scratch);
  ex->set_capture(&capture);
  return ex;
}

const std::atomic<bool>& Exchange::draining() const {
  return shared_.draining;
}

void Exchange::abort() {
  aborted_ = true;
  broken_ = true;
  if (capture_) {
    capture_->client_gone();
    return;
  }
  beast::error_code ec;
  socket_.set_option(asio::socket_base::linger(true, 0), ec);
  socket_.close(ec);
}

void Exchange::add_header(std::string_view name, std::string value) {
  if (extra_count_ == kMaxExtraHeaders) return;  // a programming error; never reached by our routes
  extra_headers_[extra_count_++] = {name, std::move(value)};
}

void Exchange::watch_client(std::function<void()> on_gone) {
  if (capture_) {
    capture_->on_gone_ = std::move(on_gone);
    return;
  }
  probe_.on_gone = std::move(on_gone);
  probe_.seen_once = false;
  core::Watchdog::for_this_thread().arm(probe_);
}

void Exchange::unwatch_client() {
  if (capture_) capture_->on_gone_ = nullptr;
  probe_.disarm();
}

void Exchange::ClientProbe::on_tick(core::SteadyClock::time_point) {
  if (!seen_once) {
    seen_once = true;
    return;
  }
  char c;
  ssize_t n = ::recv(ex_.socket_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    ex_.broken_ = true;
    disarm();
    if (on_gone) on_gone();
  }
}

asio::awaitable<void> Exchange::wait_client_gone() {
  auto& sock = socket_;
  auto [ec] = co_await sock.async_wait(asio::ip::tcp::socket::wait_read, kTuple);
  if (ec) co_return;  // error or cancellation: either way, stop waiting
  char c;
  ssize_t n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    broken_ = true;
    co_return;
  }
  // The client pipelined its next request: it is still there. Wait until cancelled.
  asio::steady_timer forever(socket_.get_executor(), asio::steady_timer::duration::max());
  co_await forever.async_wait(kTuple);
}

}  // namespace anygpt::server
