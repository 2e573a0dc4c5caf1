// mock: the routes of anygpt-mock and the state they share (runtime config, faults, records).
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mock/chat_responder.hpp"
#include "mock/faults.hpp"
#include "mock/media.hpp"
#include "mock/mock_config.hpp"
#include "mock/request_recorder.hpp"
#include "server/http_server.hpp"

namespace anygpt::mock {

// The wire formats the mock speaks.
enum class Wire { kOpenAI, kAnthropic, kGemini, kOllama };

// Serves the model routes of each wire format (OpenAI /v1/chat/completions, /v1/embeddings and
// /v1/responses, Anthropic /v1/messages, Gemini /v1beta/models/{model}:*, Ollama /api/chat and /api/embed),
// /health and the control API (/mock/*).
// Owned by main and outlives the server; every handler may run on any worker thread at once.
// Shared state: the config is an immutable snapshot swapped whole, faults and records each sit
// behind their own mutex (the fault table is lock-free while empty).
// The native routes live in mock_native_routes.cpp, the Responses API in mock_responses_routes.cpp.
class MockService {
 public:
  explicit MockService(MockConfig defaults);

  std::vector<server::Route> routes();
  // Server-level errors (404, 405, 413, ...) in the error shape of the API `path` belongs to.
  static server::Response render_error(const core::Error& error, std::string_view path);

 private:
  using Exchange = server::Exchange;
  using Awaitable = server::asio::awaitable<void>;

  // An error answer in `wire`'s shape, status from the error's kind.
  static server::Response wire_error(Wire wire, const core::Error& error);

  Awaitable logged(Exchange& ex, const server::Handler& handler);
  Awaitable health(Exchange& ex);
  Awaitable models(Exchange& ex);
  Awaitable chat_completions(Exchange& ex);
  Awaitable embeddings(Exchange& ex);
  Awaitable speech(Exchange& ex);
  Awaitable images(Exchange& ex);
  Awaitable image_edits(Exchange& ex);
  Awaitable transcriptions(Exchange& ex);
  Awaitable translations(Exchange& ex);
  Awaitable audio_upload(Exchange& ex, bool translation);
  Awaitable answer_images(Exchange& ex, core::Result<ImagePlan> plan);
  Awaitable videos_create(Exchange& ex);
  Awaitable videos_retrieve(Exchange& ex);
  Awaitable anthropic_messages(Exchange& ex);
  Awaitable gemini_generate(Exchange& ex);
  Awaitable gemini_stream(Exchange& ex);
  Awaitable gemini_embed(Exchange& ex);
  Awaitable ollama_chat(Exchange& ex);
  Awaitable ollama_embed(Exchange& ex);
  Awaitable responses_create(Exchange& ex);
  Awaitable responses_retrieve(Exchange& ex);
  Awaitable realtime(Exchange& ex);  // mock/realtime.cpp
  Awaitable get_config(Exchange& ex);
  Awaitable post_config(Exchange& ex);
  Awaitable reset(Exchange& ex);
  Awaitable get_requests(Exchange& ex);
  Awaitable delete_requests(Exchange& ex);
  Awaitable get_faults(Exchange& ex);
  Awaitable post_fault(Exchange& ex);
  Awaitable delete_faults(Exchange& ex);

  // Delay, injected fault and random failures before a model answer (error bodies in `wire`'s
  // shape). Returns true when the exchange is settled (answered, reset or held until the client
  // left).
  server::asio::awaitable<bool> before_answer(Exchange& ex, const MockConfig& config, const std::optional<Fault>& fault,
                                              std::string_view model, Wire wire);
  // The start of a model call: records it (`model` empty when the request was invalid and named
  // no model), answers `invalid` with its 4xx in `wire`'s shape, takes the model's fault into
  // `fault` and runs before_answer. True when the exchange is settled.
  server::asio::awaitable<bool> open_call(Exchange& ex, const std::string& model, const core::Error* invalid,
                                          std::optional<Fault>& fault, Wire wire = Wire::kOpenAI);
  // The non-stream answer `body`, or what a stream fault turns it into.
  Awaitable answer_json(Exchange& ex, std::string body, const std::optional<Fault>& fault);
  // Streams `events` (one chunk each, content events spaced by the chunk interval), applying a
  // stream fault; `malformed` is the protocol's non-JSON event for malformed_chunk.
  Awaitable answer_events(Exchange& ex, const SseEvents& events, std::string_view content_type,
                          std::string_view malformed, const MockConfig& config, const std::optional<Fault>& fault);
  // The stream shape the config and a missing_done fault ask for.
  static StreamShape stream_shape(const MockConfig& config, const std::optional<Fault>& fault);
  std::uint64_t next_seq() { return seq_.fetch_add(1, std::memory_order_relaxed) + 1; }

  void record(Exchange& ex, std::string model);
  // The last kKeptResponses Response objects (and finished video jobs) created, by id, for
  // GET /v1/responses/{id} and /v1/videos/{id}.
  void keep_response(std::string id, std::string body);
  std::optional<std::string> kept_response(std::string_view id);
  static constexpr std::size_t kKeptResponses = 100;
  void set_config(MockConfig config);
  std::shared_ptr<const MockConfig> config() const { return config_.load(std::memory_order_acquire); }

  const MockConfig defaults_;
  const std::string models_body_;
  std::atomic<std::shared_ptr<const MockConfig>> config_;
  std::atomic<bool> logs_enabled_{false};  // mirrors config()->enable_logs for the hot path
  std::mutex config_write_mu_;             // serialises read-modify-write of the config
  std::atomic<std::uint64_t> seq_{0};
  FaultTable faults_;
  RequestRecorder recorder_;
  std::mutex responses_mu_;
  std::deque<std::pair<std::string, std::string>> responses_;  // (id, body), oldest first
};

}  // namespace anygpt::mock
