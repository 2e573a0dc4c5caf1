// mock: the native model routes of MockService - Anthropic, Gemini and Ollama. Each validates
// with its pure responder, records the request, then takes the same path as the OpenAI routes
// (faults, delays, answer or stream) with error bodies in its own protocol's shape.
#include <chrono>

#include "mock/anthropic_responder.hpp"
#include "mock/gemini_responder.hpp"
#include "mock/mock_service.hpp"
#include "mock/ollama_responder.hpp"

namespace anygpt::mock {
using server::Exchange;

namespace {

// Plain functions (not coroutines): GCC 12 mishandles some temporaries inside coroutines.
core::Result<AnthropicPlan> anthropic_plan(Exchange& ex) {
  AnthropicHeaders headers;
  headers.api_key = ex.header("x-api-key");
  headers.version = ex.header("anthropic-version");
  return plan_anthropic(headers, ex.body());
}

core::Result<GeminiPlan> gemini_plan(Exchange& ex, bool stream) {
  if (auto bad = gemini_check_request(ex.query(), ex.header("x-goog-api-key"), stream)) return *bad;
  return plan_gemini(ex.path_param(), ex.body());
}

core::Result<GeminiEmbedPlan> gemini_embed_plan(Exchange& ex) {
  if (auto bad = gemini_check_request(ex.query(), ex.header("x-goog-api-key"), false)) return *bad;
  return plan_gemini_embed(ex.path_param(), ex.body());
}

std::string now_timestamp() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
  return ollama_timestamp(ns.count());
}

}  // namespace

MockService::Awaitable MockService::anthropic_messages(Exchange& ex) {
  auto plan = anthropic_plan(ex);
  const std::string model = plan ? plan->model : std::string();
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault, Wire::kAnthropic);
  if (settled) co_return;
  const auto seq = next_seq();
  if (plan->stream) {
    auto cfg = config();
    auto events = anthropic_stream_events(*plan, seq, stream_shape(*cfg, fault));
    co_await answer_events(ex, events, "text/event-stream", kAnthropicMalformedEvent, *cfg, fault);
  } else {
    co_await answer_json(ex, anthropic_message_body(*plan, seq), fault);
  }
}

MockService::Awaitable MockService::gemini_generate(Exchange& ex) {
  const std::string model = ex.path_param();
  auto plan = gemini_plan(ex, false);
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault, Wire::kGemini);
  if (settled) co_return;
  co_await answer_json(ex, gemini_response_body(*plan, next_seq()), fault);
}

MockService::Awaitable MockService::gemini_stream(Exchange& ex) {
  const std::string model = ex.path_param();
  auto plan = gemini_plan(ex, true);
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault, Wire::kGemini);
  if (settled) co_return;
  auto cfg = config();
  auto events = gemini_stream_events(*plan, next_seq(), stream_shape(*cfg, fault));
  co_await answer_events(ex, events, "text/event-stream", kGeminiMalformedEvent, *cfg, fault);
}

MockService::Awaitable MockService::gemini_embed(Exchange& ex) {
  const std::string model = ex.path_param();
  auto plan = gemini_embed_plan(ex);
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault, Wire::kGemini);
  if (settled) co_return;
  co_await answer_json(ex, gemini_embed_body(*plan), fault);
}

MockService::Awaitable MockService::ollama_chat(Exchange& ex) {
  auto plan = plan_ollama_chat(ex.body());
  const std::string model = plan ? plan->model : std::string();
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault, Wire::kOllama);
  if (settled) co_return;
  const std::string created_at = now_timestamp();
  if (plan->stream && !plan->load_only) {
    auto cfg = config();
    auto events = ollama_chat_lines(*plan, created_at, stream_shape(*cfg, fault));
    co_await answer_events(ex, events, "application/x-ndjson", kOllamaMalformedLine, *cfg, fault);
  } else {
    co_await answer_json(ex, ollama_chat_body(*plan, created_at), fault);
  }
}

MockService::Awaitable MockService::ollama_embed(Exchange& ex) {
  auto plan = plan_ollama_embed(ex.body());
  const std::string model = plan ? plan->model : std::string();
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault, Wire::kOllama);
  if (settled) co_return;
  co_await answer_json(ex, ollama_embed_body(*plan), fault);
}

}  // namespace anygpt::mock
