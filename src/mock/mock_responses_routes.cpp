// mock: the OpenAI Responses API routes of MockService - POST /v1/responses (validated by the pure
// responses_responder, then the same path as the other model routes: faults, delays, answer or
// stream) and GET /v1/responses/{id} for the responses it created.
#include <ctime>

#include "mock/mock_service.hpp"
#include "mock/openai_errors.hpp"
#include "mock/responses_responder.hpp"

namespace anygpt::mock {
using server::Exchange;

void MockService::keep_response(std::string id, std::string body) {
  std::lock_guard lock(responses_mu_);
  responses_.emplace_back(std::move(id), std::move(body));
  if (responses_.size() > kKeptResponses) responses_.pop_front();
}

std::optional<std::string> MockService::kept_response(std::string_view id) {
  std::lock_guard lock(responses_mu_);
  for (const auto& [key, body] : responses_)
    if (key == id) return body;
  return std::nullopt;
}

MockService::Awaitable MockService::responses_create(Exchange& ex) {
  auto plan = plan_responses(ex.body());
  const std::string model = plan ? plan->model : std::string();
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault);
  if (settled) co_return;
  const auto seq = next_seq();
  const auto created = static_cast<std::int64_t>(std::time(nullptr));
  auto body = responses_body(*plan, seq, created);
  keep_response("resp_mock_" + std::to_string(seq), body);
  if (plan->stream) {
    auto cfg = config();
    auto events = responses_stream_events(*plan, seq, created, stream_shape(*cfg, fault));
    co_await answer_events(ex, events, "text/event-stream", kResponsesMalformedEvent, *cfg, fault);
  } else {
    co_await answer_json(ex, std::move(body), fault);
  }
}

MockService::Awaitable MockService::responses_retrieve(Exchange& ex) {
  record(ex, std::string());
  auto body = kept_response(ex.path_param());
  if (!body) {
    auto e = core::make_error(core::ErrorKind::kNotFound, "Response with id '" + ex.path_param() + "' not found.");
    co_await ex.reply(wire_error(Wire::kOpenAI, e));
    co_return;
  }
  co_await ex.reply(server::Response{200, "application/json", std::move(*body), {}});
}

}  // namespace anygpt::mock
