#include "mock/mock_service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <chrono>
#include <ctime>
#include <optional>
#include <random>

#include "core/log.hpp"
#include "mock/anthropic_responder.hpp"
#include "mock/embeddings.hpp"
#include "mock/gemini_responder.hpp"
#include "mock/json_text.hpp"
#include "mock/media.hpp"
#include "mock/ollama_responder.hpp"
#include "mock/openai_errors.hpp"
#include "mock/uploads.hpp"

namespace anygpt::mock {
namespace asio = server::asio;
namespace http = server::http;
using namespace boost::asio::experimental::awaitable_operators;
using server::Exchange;
using server::Response;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// How long "never answers" lasts when the client does not give up first.
constexpr auto kHoldLimit = std::chrono::minutes(10);
constexpr std::string_view kMalformedEvent = "data: {this is not json\n\n";
constexpr std::string_view kMalformedBody = "{this is not json";

struct ModelInfo {
  std::string_view id;
  std::int64_t created;
};
constexpr ModelInfo kModels[] = {
    {"mock-gpt-4", 1687882411},
    {"mock-gpt-3.5-turbo", 1677610602},
    {"gpt-3.5-turbo", 1677610602},
    {"mock-embed", 1705948997},
};

std::string models_json() {
  std::string out = "{\"object\":\"list\",\"data\":[";
  bool first = true;
  for (const auto& m : kModels) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":";
    append_json_string(out, m.id);
    out += ",\"object\":\"model\",\"created\":";
    append_int(out, m.created);
    out += ",\"owned_by\":\"mock\"}";
  }
  out += "]}";
  return out;
}

Response json_response(std::string body, unsigned status = 200) {
  return Response{status, "application/json", std::move(body), {}};
}

std::string success_with(std::string_view key, std::string_view json_value) {
  std::string out = "{\"success\":true,";
  append_key(out, key);
  out += json_value;
  out += '}';
  return out;
}

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

// True with probability p (no random draw when p is 0).
bool roll(double p) {
  return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng()) < p;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

asio::awaitable<void> sleep_for(Exchange& ex, std::chrono::microseconds d) {
  if (d.count() <= 0) co_return;
  asio::steady_timer timer(ex.executor(), d);
  co_await timer.async_wait(kTuple);
}

std::chrono::microseconds ms(double v) {
  return std::chrono::microseconds(static_cast<std::int64_t>(v * 1000.0));
}

// Holds the request without answering until the client leaves (or kHoldLimit), then resets it.
asio::awaitable<void> hold(Exchange& ex) {
  asio::steady_timer limit(ex.executor(), kHoldLimit);
  co_await (limit.async_wait(kTuple) || ex.wait_client_gone());
  ex.abort();
}

Response error_response(const core::Error& e) {
  return json_response(error_body(e), core::http_status(e.kind));
}

// The API family a request path belongs to (for server-level errors).
Wire wire_for_path(std::string_view path) {
  if (path == "/v1/messages" || path.starts_with("/v1/messages/")) return Wire::kAnthropic;
  if (path.starts_with("/v1beta/")) return Wire::kGemini;
  if (path.starts_with("/api/")) return Wire::kOllama;
  return Wire::kOpenAI;
}

// A "status" fault's (or a random failure's) answer body in `wire`'s shape.
std::string status_body(Wire wire, const StatusErrorOptions& options) {
  switch (wire) {
    case Wire::kAnthropic: return anthropic_status_error_body(options);
    case Wire::kGemini: return gemini_status_error_body(options);
    case Wire::kOllama: return ollama_status_error_body(options);
    case Wire::kOpenAI: break;
  }
  return status_error_body(options);
}

}  // namespace

MockService::MockService(MockConfig defaults)
    : defaults_(defaults), models_body_(models_json()), config_(std::make_shared<const MockConfig>(defaults)) {
  logs_enabled_.store(defaults.enable_logs);
}

Response MockService::render_error(const core::Error& error, std::string_view path) {
  Wire wire = wire_for_path(path);
  if (wire == Wire::kOpenAI) return error_response(error);
  core::Error native = error;
  native.code.clear();  // the server's OpenAI-style code; each wire derives its own from the kind
  return wire_error(wire, native);
}

Response MockService::wire_error(Wire wire, const core::Error& error) {
  unsigned status = core::http_status(error.kind);
  switch (wire) {
    case Wire::kAnthropic: return json_response(anthropic_error_body(error), status);
    case Wire::kGemini: return json_response(gemini_error_body(error), status);
    case Wire::kOllama: return json_response(ollama_error_body(error.message), status);
    case Wire::kOpenAI: break;
  }
  return error_response(error);
}

StreamShape MockService::stream_shape(const MockConfig& config, const std::optional<Fault>& fault) {
  StreamShape shape;
  shape.content_chunks = config.stream_chunks;
  shape.done_event = !(fault && fault->kind == FaultKind::kMissingDone);
  return shape;
}

void MockService::set_config(MockConfig config) {
  logs_enabled_.store(config.enable_logs, std::memory_order_relaxed);
  config_.store(std::make_shared<const MockConfig>(config), std::memory_order_release);
}

std::vector<server::Route> MockService::routes() {
  using http::verb;
  using Member = Awaitable (MockService::*)(Exchange&);
  struct Entry {
    verb method;
    const char* path;
    Member fn;
  };
  const Entry table[] = {
      {verb::get, "/health", &MockService::health},
      {verb::get, "/v1/models", &MockService::models},
      {verb::post, "/v1/chat/completions", &MockService::chat_completions},
      {verb::post, "/v1/embeddings", &MockService::embeddings},
      {verb::post, "/v1/audio/speech", &MockService::speech},
      {verb::post, "/v1/images/generations", &MockService::images},
      {verb::post, "/v1/images/edits", &MockService::image_edits},
      {verb::post, "/v1/audio/transcriptions", &MockService::transcriptions},
      {verb::post, "/v1/audio/translations", &MockService::translations},
      {verb::post, "/v1/videos/generations", &MockService::videos_create},
      {verb::get, "/v1/videos/{id}", &MockService::videos_retrieve},
      {verb::post, "/v1/messages", &MockService::anthropic_messages},
      {verb::post, "/v1beta/models/{model}:generateContent", &MockService::gemini_generate},
      {verb::post, "/v1beta/models/{model}:streamGenerateContent", &MockService::gemini_stream},
      {verb::post, "/v1beta/models/{model}:batchEmbedContents", &MockService::gemini_embed},
      {verb::post, "/api/chat", &MockService::ollama_chat},
      {verb::post, "/api/embed", &MockService::ollama_embed},
      {verb::post, "/v1/responses", &MockService::responses_create},
      {verb::get, "/v1/responses/{id}", &MockService::responses_retrieve},
      {verb::get, "/v1/realtime", &MockService::realtime},
      {verb::get, "/mock/config", &MockService::get_config},
      {verb::post, "/mock/config", &MockService::post_config},
      {verb::post, "/mock/reset", &MockService::reset},
      {verb::get, "/mock/requests", &MockService::get_requests},
      {verb::delete_, "/mock/requests", &MockService::delete_requests},
      {verb::get, "/mock/faults", &MockService::get_faults},
      {verb::post, "/mock/faults", &MockService::post_fault},
      {verb::delete_, "/mock/faults", &MockService::delete_faults},
  };
  std::vector<server::Route> out;
  for (const auto& e : table) {
    server::Handler inner = [this, fn = e.fn](Exchange& ex) { return (this->*fn)(ex); };
    out.push_back({e.method, e.path, [this, inner = std::move(inner)](Exchange& ex) { return logged(ex, inner); }});
  }
  return out;
}

MockService::Awaitable MockService::logged(Exchange& ex, const server::Handler& handler) {
  if (!logs_enabled_.load(std::memory_order_relaxed)) {
    co_await handler(ex);
    co_return;
  }
  auto start = std::chrono::steady_clock::now();
  co_await handler(ex);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  const auto& req = ex.request();
  std::string fields = "\"method\":";
  append_json_string(fields, std::string_view(req.method_string().data(), req.method_string().size()));
  fields += ",\"path\":";
  append_json_string(fields, std::string_view(req.target().data(), req.target().size()));
  fields += ",\"status\":";
  append_int(fields, ex.aborted() ? 0 : ex.status());
  fields += ",\"aborted\":";
  fields += ex.aborted() ? "true" : "false";
  fields += ",\"ms\":";
  append_double(fields, static_cast<double>(us) / 1000.0);
  core::log(core::LogLevel::kInfo, "mock request", fields);
}

void MockService::record(Exchange& ex, std::string model) {
  const auto& req = ex.request();
  RecordedRequest r;
  r.method.assign(req.method_string().data(), req.method_string().size());
  r.path.assign(req.target().data(), req.target().size());
  r.headers_json.reserve(512);
  r.headers_json += '{';
  bool first = true;
  for (const auto& field : req) {
    if (!first) r.headers_json += ',';
    first = false;
    auto begin = r.headers_json.size();
    append_json_string(r.headers_json, std::string_view(field.name_string().data(), field.name_string().size()));
    for (auto i = begin; i < r.headers_json.size(); ++i)
      r.headers_json[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(r.headers_json[i])));
    r.headers_json += ':';
    append_json_string(r.headers_json, std::string_view(field.value().data(), field.value().size()));
  }
  r.headers_json += '}';
  r.body = std::move(ex.body());
  r.model = std::move(model);
  r.received_ms = now_ms();
  recorder_.record(std::move(r));
}

MockService::Awaitable MockService::health(Exchange& ex) {
  co_await ex.reply(json_response(R"({"status":"ok","provider":"mock"})"));
}

MockService::Awaitable MockService::models(Exchange& ex) {
  record(ex, {});
  co_await ex.reply(json_response(models_body_));
}

asio::awaitable<bool> MockService::before_answer(Exchange& ex, const MockConfig& cfg, const std::optional<Fault>& fault,
                                                 std::string_view model, Wire wire) {
  double delay = cfg.base_delay_ms;
  if (cfg.delay_variance_ms > 0)
    delay += std::uniform_real_distribution<double>(-cfg.delay_variance_ms, cfg.delay_variance_ms)(rng());
  if (roll(cfg.slow_rate)) delay += cfg.slow_delay_ms;
  if (delay > 0) co_await sleep_for(ex, ms(delay));
  if (fault) {
    switch (fault->kind) {
      case FaultKind::kStatus: {
        StatusErrorOptions options{fault->status, fault->message, fault->type, fault->code, model};
        Response r = json_response(status_body(wire, options), fault->status);
        if (fault->retry_after >= 0) r.headers.emplace_back("Retry-After", std::to_string(fault->retry_after));
        co_await ex.reply(std::move(r));
        co_return true;
      }
      case FaultKind::kReset: ex.abort(); co_return true;
      case FaultKind::kNoAnswer: co_await hold(ex); co_return true;
      case FaultKind::kSlowFirstToken: co_await sleep_for(ex, ms(fault->delay_ms)); co_return false;
      default: co_return false;  // stream faults: applied while answering
    }
  }
  if (roll(cfg.timeout_rate)) {
    co_await hold(ex);
    co_return true;
  }
  if (roll(cfg.error_rate)) {
    static constexpr unsigned kStatuses[] = {500, 503, 429};
    unsigned status = kStatuses[std::uniform_int_distribution<int>(0, 2)(rng())];
    StatusErrorOptions options{status, {}, {}, {}, model};
    co_await ex.reply(json_response(status_body(wire, options), status));
    co_return true;
  }
  co_return false;
}

MockService::Awaitable MockService::answer_json(Exchange& ex, std::string body, const std::optional<Fault>& fault) {
  if (fault) {
    switch (fault->kind) {
      case FaultKind::kStreamCut: ex.abort(); co_return;
      case FaultKind::kStreamStall: co_await hold(ex); co_return;
      case FaultKind::kMalformedChunk: co_await ex.reply(json_response(std::string(kMalformedBody))); co_return;
      default: break;
    }
  }
  co_await ex.reply(json_response(std::move(body)));
}

MockService::Awaitable MockService::answer_events(Exchange& ex, const SseEvents& events, std::string_view content_type,
                                                  std::string_view malformed, const MockConfig& cfg,
                                                  const std::optional<Fault>& fault) {
  // Index of the event before which the stream fault strikes (none: past the end).
  std::size_t fault_at = events.size() + 1;
  if (fault && (fault->kind == FaultKind::kStreamCut || fault->kind == FaultKind::kStreamStall ||
                fault->kind == FaultKind::kMalformedChunk))
    fault_at = std::min(static_cast<std::size_t>(fault->after_chunks), events.size());
  const auto interval = chunk_interval(cfg);

  const bool started = co_await ex.begin_stream(200, content_type);
  if (!started) co_return;
  asio::steady_timer timer(ex.executor());
  for (std::size_t i = 0; i <= events.size(); ++i) {
    if (i == fault_at) {
      if (fault->kind == FaultKind::kStreamCut) {
        ex.abort();
        co_return;
      }
      if (fault->kind == FaultKind::kStreamStall) {
        co_await hold(ex);
        co_return;
      }
      const bool sent = co_await ex.write_chunk(malformed);
      if (!sent) co_return;
    }
    if (i == events.size()) break;
    if (interval.count() > 0 && events.is_content(i)) {
      timer.expires_after(interval);
      co_await timer.async_wait(kTuple);
    }
    const bool sent = co_await ex.write_chunk(events[i]);
    if (!sent) co_return;
  }
  co_await ex.end_stream();
}

asio::awaitable<bool> MockService::open_call(Exchange& ex, const std::string& model, const core::Error* invalid,
                                             std::optional<Fault>& fault, Wire wire) {
  record(ex, model);
  if (invalid) {
    co_await ex.reply(wire_error(wire, *invalid));
    co_return true;
  }
  fault = faults_.take(model);
  auto cfg = config();
  const bool settled = co_await before_answer(ex, *cfg, fault, model, wire);
  co_return settled;
}

MockService::Awaitable MockService::chat_completions(Exchange& ex) {
  auto plan = plan_chat(ex.body());
  const std::string model = plan ? plan->model : std::string();
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault);
  if (settled) co_return;
  AnswerIds ids{next_seq(), static_cast<std::int64_t>(std::time(nullptr))};
  if (plan->stream) {
    auto cfg = config();
    auto events = chat_stream_events(*plan, ids, stream_shape(*cfg, fault));
    co_await answer_events(ex, events, "text/event-stream", kMalformedEvent, *cfg, fault);
  } else {
    co_await answer_json(ex, chat_completion_body(*plan, ids), fault);
  }
}

MockService::Awaitable MockService::embeddings(Exchange& ex) {
  auto plan = plan_embeddings(ex.body());
  const std::string model = plan ? plan->model : std::string();
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault);
  if (settled) co_return;
  co_await answer_json(ex, embeddings_body(*plan), fault);
}

// Audio streamed in 16 KiB chunks with the format's content type (a stream fault cuts it after
// `afterChunks` chunks).
MockService::Awaitable MockService::speech(Exchange& ex) {
  auto plan = plan_speech(ex.body());
  const std::string model = plan ? plan->model : std::string();
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault);
  if (settled) co_return;
  plan->bytes_per_char = static_cast<std::size_t>(config()->speech_bytes_per_char);
  const auto audio = speech_bytes(*plan);
  const bool cut = fault && fault->kind == FaultKind::kStreamCut;
  const bool begun = co_await ex.begin_stream(200, plan->content_type);
  if (!begun) co_return;
  constexpr std::size_t kChunk = 16 * 1024;
  std::size_t sent = 0;
  for (std::size_t at = 0; at < audio.size(); at += kChunk, ++sent) {
    if (cut && sent >= static_cast<std::size_t>(fault->after_chunks)) {
      ex.abort();
      co_return;
    }
    const bool written = co_await ex.write_chunk(std::string_view(audio).substr(at, kChunk));
    if (!written) co_return;
  }
  co_await ex.end_stream();
}

MockService::Awaitable MockService::images(Exchange& ex) {
  return answer_images(ex, plan_images(ex.body()));
}

MockService::Awaitable MockService::image_edits(Exchange& ex) {
  return answer_images(ex, plan_image_edit(ex.header(http::field::content_type), ex.body()));
}

// Generations and edits answer alike.
MockService::Awaitable MockService::answer_images(Exchange& ex, core::Result<ImagePlan> plan) {
  const std::string model = plan ? plan->model : std::string();
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault);
  if (settled) co_return;
  co_await answer_json(ex, images_body(*plan, static_cast<std::int64_t>(std::time(nullptr))), fault);
}

MockService::Awaitable MockService::transcriptions(Exchange& ex) {
  return audio_upload(ex, false);
}

MockService::Awaitable MockService::translations(Exchange& ex) {
  return audio_upload(ex, true);
}

// The answer in the asked response_format, with its content type (text, srt and vtt are not JSON).
MockService::Awaitable MockService::audio_upload(Exchange& ex, bool translation) {
  auto plan = plan_transcription(ex.header(http::field::content_type), ex.body(), translation);
  const std::string model = plan ? plan->model : std::string();
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault);
  if (settled) co_return;
  if (plan->stream) {
    auto cfg = config();
    auto events = transcription_events(*plan, stream_shape(*cfg, fault).content_chunks);
    co_await answer_events(ex, events, "text/event-stream", kMalformedEvent, *cfg, fault);
    co_return;
  }
  auto answer = transcription_answer(*plan);
  if (answer.content_type == "application/json") {
    co_await answer_json(ex, std::move(answer.body), fault);
    co_return;
  }
  co_await ex.reply(Response{200, std::move(answer.content_type), std::move(answer.body), {}});
}

MockService::Awaitable MockService::videos_create(Exchange& ex) {
  auto plan = plan_video(ex.body());
  const std::string model = plan ? plan->model : std::string();
  const core::Error* invalid = plan ? nullptr : &plan.error();
  std::optional<Fault> fault;
  const bool settled = co_await open_call(ex, model, invalid, fault);
  if (settled) co_return;
  std::string id = "vid_mock_";
  append_int(id, static_cast<std::int64_t>(next_seq()));
  keep_response(id, video_done_body(id));
  co_await answer_json(ex, video_started_body(id), fault);
}

MockService::Awaitable MockService::videos_retrieve(Exchange& ex) {
  record(ex, std::string());
  auto body = kept_response(ex.path_param());
  if (!body) {
    std::string message = "Video job '";
    message.append(ex.path_param()).append("' not found.");
    co_await ex.reply(error_response(core::make_error(core::ErrorKind::kNotFound, std::move(message))));
    co_return;
  }
  co_await ex.reply(json_response(std::move(*body)));
}

MockService::Awaitable MockService::get_config(Exchange& ex) {
  co_await ex.reply(json_response(config_json(*config())));
}

MockService::Awaitable MockService::post_config(Exchange& ex) {
  Response response;
  {
    std::lock_guard lock(config_write_mu_);
    auto updated = apply_config_patch(*config(), ex.body());
    if (updated) set_config(*updated);
    response = updated ? json_response(success_with("config", config_json(*updated))) : error_response(updated.error());
  }
  co_await ex.reply(std::move(response));
}

MockService::Awaitable MockService::reset(Exchange& ex) {
  {
    std::lock_guard lock(config_write_mu_);
    set_config(defaults_);
  }
  faults_.clear();
  recorder_.clear();
  {
    std::lock_guard lock(responses_mu_);
    responses_.clear();
  }
  co_await ex.reply(json_response(success_with("config", config_json(defaults_))));
}

MockService::Awaitable MockService::get_requests(Exchange& ex) {
  co_await ex.reply(json_response(recorder_.to_json()));
}

MockService::Awaitable MockService::delete_requests(Exchange& ex) {
  recorder_.clear();
  co_await ex.reply(json_response(R"({"success":true})"));
}

MockService::Awaitable MockService::get_faults(Exchange& ex) {
  co_await ex.reply(json_response(faults_.list_json()));
}

MockService::Awaitable MockService::post_fault(Exchange& ex) {
  auto fault = parse_fault(ex.body());
  if (!fault) {
    co_await ex.reply(error_response(fault.error()));
    co_return;
  }
  auto id = faults_.add(std::move(fault.value()));
  std::string id_text;
  append_int(id_text, static_cast<std::int64_t>(id));
  co_await ex.reply(json_response(success_with("id", id_text)));
}

MockService::Awaitable MockService::delete_faults(Exchange& ex) {
  faults_.clear();
  co_await ex.reply(json_response(R"({"success":true})"));
}

}  // namespace anygpt::mock
