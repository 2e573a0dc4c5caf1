// mock: the routes of anygpt-mock and the state they share (runtime config, faults, records).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mock/chat_responder.hpp"
#include "mock/faults.hpp"
#include "mock/mock_config.hpp"
#include "mock/request_recorder.hpp"
#include "server/http_server.hpp"

namespace anygpt::mock {

// Serves the OpenAI-compatible model routes (/v1/*), /health and the control API (/mock/*).
// Owned by main and outlives the server; every handler may run on any worker thread at once.
// Shared state: the config is an immutable snapshot swapped whole, faults and records each sit
// behind their own mutex (the fault table is lock-free while empty).
class MockService {
 public:
  explicit MockService(MockConfig defaults);

  std::vector<server::Route> routes();
  // Server-level errors (404, 405, 413, ...) in OpenAI's error shape.
  static server::Response render_error(const core::Error& error, std::string_view path);

 private:
  using Exchange = server::Exchange;
  using Awaitable = server::asio::awaitable<void>;

  Awaitable logged(Exchange& ex, const server::Handler& handler);
  Awaitable health(Exchange& ex);
  Awaitable models(Exchange& ex);
  Awaitable chat_completions(Exchange& ex);
  Awaitable embeddings(Exchange& ex);
  Awaitable get_config(Exchange& ex);
  Awaitable post_config(Exchange& ex);
  Awaitable reset(Exchange& ex);
  Awaitable get_requests(Exchange& ex);
  Awaitable delete_requests(Exchange& ex);
  Awaitable get_faults(Exchange& ex);
  Awaitable post_fault(Exchange& ex);
  Awaitable delete_faults(Exchange& ex);

  // Delay, injected fault and random failures before a model answer. Returns true when the
  // exchange is settled (answered, reset or held until the client left).
  server::asio::awaitable<bool> before_answer(Exchange& ex, const MockConfig& config, const std::optional<Fault>& fault,
                                              std::string_view model);
  // The non-stream answer `body`, or what a stream fault turns it into.
  Awaitable answer_json(Exchange& ex, std::string body, const std::optional<Fault>& fault);
  Awaitable answer_stream(Exchange& ex, const ChatPlan& plan, const AnswerIds& ids, const MockConfig& config,
                          const std::optional<Fault>& fault);

  void record(Exchange& ex, std::string model);
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
};

}  // namespace anygpt::mock
