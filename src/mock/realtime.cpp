// The mock's OpenAI Realtime endpoint: GET /v1/realtime?model=M upgraded to a WebSocket.
// session.created on open; a response.create gets response.created, text deltas and
// response.done with usage; any other text message comes back inside mock.echo (its exact text
// in "received"), a binary message comes back as it was. Faults: a model's status fault refuses
// the upgrade with that status; {"type":"mock.drop"} cuts the connection without a close.
#include <boost/beast/websocket/rfc6455.hpp>
#include <string>

#include "core/json_text.hpp"
#include "mock/mock_service.hpp"
#include "ws/connection.hpp"

namespace anygpt::mock {
namespace {

std::string event(std::string_view type, std::string_view rest) {
  std::string out = "{\"type\":\"";
  out += type;
  out += '"';
  out += rest;
  out += '}';
  return out;
}

std::string session_created(std::uint64_t n, std::string_view model) {
  std::string rest = ",\"event_id\":\"evt_mock_" + std::to_string(n) + "_0\",\"session\":{\"id\":\"sess_mock_" +
                     std::to_string(n) + "\",\"object\":\"realtime.session\",\"model\":";
  core::append_json_string(rest, model);
  rest += '}';
  return event("session.created", rest);
}

std::string echo(std::string_view received) {
  std::string rest = ",\"received\":";
  core::append_json_string(rest, received);
  return event("mock.echo", rest);
}

// The events answering one response.create (`r`: the response's number on the session).
std::vector<std::string> response_events(std::uint64_t session, int r) {
  const std::string id = "resp_mock_" + std::to_string(session) + "_" + std::to_string(r);
  std::vector<std::string> out;
  out.push_back(event("response.created", ",\"response\":{\"id\":\"" + id + "\",\"status\":\"in_progress\"}"));
  for (const char* piece : {"Mock ", "realtime ", "reply"})
    out.push_back(event("response.output_text.delta",
                        ",\"response_id\":\"" + id + "\",\"delta\":\"" + std::string(piece) + "\""));
  out.push_back(event("response.done", ",\"response\":{\"id\":\"" + id +
                                           "\",\"status\":\"completed\",\"usage\":{\"total_tokens\":17,"
                                           "\"input_tokens\":5,\"output_tokens\":12}}"));
  return out;
}

}  // namespace

MockService::Awaitable MockService::realtime(Exchange& ex) {
  const std::string model(ex.query_value("model"));
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, nullptr, fault);
  if (settled) co_return;
  if (!boost::beast::websocket::is_upgrade(ex.request())) {
    co_await ex.reply(server::Response(426, "application/json", "{\"error\":{\"message\":\"upgrade required\"}}"));
    co_return;
  }
  auto& socket = ex.upgrade();
  ws::Options options;
  options.idle_timeout_ms = 600000;
  options.ping_interval_ms = 600000;
  ws::Connection conn(socket, options, ex.draining());
  const bool accepted = co_await conn.accept(ex.request());
  if (!accepted) co_return;
  const std::uint64_t session = next_seq();
  co_await conn.send(session_created(session, model));
  int responses = 0;
  auto on_message = [&](std::string_view data, bool binary) -> server::asio::awaitable<void> {
    if (binary) {
      co_await conn.send(std::string(data), true);
      co_return;
    }
    if (data.find("\"mock.drop\"") != std::string_view::npos) {
      boost::system::error_code ec;
      socket.close(ec);
      co_return;
    }
    if (data.find("\"response.create\"") != std::string_view::npos) {
      for (auto& e : response_events(session, ++responses)) co_await conn.send(std::move(e));
      co_return;
    }
    co_await conn.send(echo(data));
  };
  co_await conn.run(on_message);
}

}  // namespace anygpt::mock
