#include "formats/ollama/provider_stream.hpp"

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/common/chunks.hpp"
#include "formats/ollama/provider_answer.hpp"

namespace anygpt::formats::ollama {
namespace json = boost::json;

namespace {

json::parse_options line_options() {
  json::parse_options options;
  options.max_depth = 64;  // tool-call arguments may nest deeper than the default 32
  return options;
}

class NdjsonDecoder final : public StreamDecoder {
 public:
  explicit NdjsonDecoder(std::string_view model) : parser_(json::storage_ptr{}, line_options()), model_(model) {}

  // A stream_parser stops at the end of each JSON value, so lines need no splitting of our own:
  // partial lines stay inside the parser, whitespace and newlines between them are skipped.
  std::optional<core::Error> feed(std::string_view bytes, std::vector<json::object>& chunks) override {
    while (!bytes.empty() && !complete_) {
      json::error_code ec;
      auto n = parser_.write_some(bytes.data(), bytes.size(), ec);
      if (ec) return upstream_error("Ollama sent a stream line that is not JSON (" + ec.message() + ")");
      bytes.remove_prefix(n);
      if (!parser_.done()) continue;
      auto line = parser_.release();
      parser_.reset();
      if (!line.is_object()) return upstream_error("Ollama sent a stream line that is not a JSON object");
      if (auto e = on_line(line.get_object(), chunks)) return e;
    }
    return std::nullopt;
  }

  bool complete() const override { return complete_; }

 private:
  std::optional<core::Error> on_line(const json::object& line, std::vector<json::object>& chunks) {
    if (auto e = line_error(line)) return e;
    const json::value* m = line.if_contains("message");
    const json::object* message = m && m->is_object() ? &m->get_object() : nullptr;
    const json::value* d = line.if_contains("done");
    bool done = d && d->is_bool() && d->get_bool();
    auto reason = common::str(line, "done_reason");
    if (done && load_only(reason) && !delivered_ && (!message || common::str(*message, "content").empty()))
      return upstream_error("the Ollama stream is a model " + std::string(reason) + ", not an answer");
    if (!started_) start(line, chunks);
    if (message)
      if (auto e = on_message(*message, chunks)) return e;
    if (done) finish(line, reason, chunks);
    return std::nullopt;
  }

  // The first line fixes created and model for every chunk, and opens with the role chunk.
  void start(const json::object& line, std::vector<json::object>& chunks) {
    started_ = true;
    created_ = created_seconds(common::str(line, "created_at"));
    if (auto model = common::str(line, "model"); !model.empty()) model_ = model;
    chunks.push_back(chunk(json::object{{"role", "assistant"}, {"content", ""}}));
  }

  std::optional<core::Error> on_message(const json::object& message, std::vector<json::object>& chunks) {
    json::object delta;
    if (auto thinking = common::str(message, "thinking"); !thinking.empty()) delta["reasoning_content"] = thinking;
    if (auto text = common::str(message, "content"); !text.empty()) delta["content"] = text;
    if (!delta.empty()) {
      delivered_ = true;
      chunks.push_back(chunk(std::move(delta)));
    }
    auto calls = read_tool_calls(message, calls_, ids_);
    if (!calls) return calls.error();
    for (const auto& c : *calls) {
      delivered_ = true;
      json::object fn{{"name", c.name}, {"arguments", ""}};
      json::object first{{"index", calls_}, {"id", c.id}, {"type", "function"}, {"function", std::move(fn)}};
      chunks.push_back(chunk(json::object{{"tool_calls", json::array{std::move(first)}}}));
      json::object rest{{"index", calls_}, {"function", json::object{{"arguments", c.arguments}}}};
      chunks.push_back(chunk(json::object{{"tool_calls", json::array{std::move(rest)}}}));
      ++calls_;
    }
    return std::nullopt;
  }

  void finish(const json::object& line, std::string_view reason, std::vector<json::object>& chunks) {
    chunks.push_back(chunk(json::object{}, finish_reason(reason, calls_ > 0)));
    auto usage = head();
    usage["choices"] = json::array{};
    usage["usage"] = usage_of(line);
    chunks.push_back(std::move(usage));
    complete_ = true;
  }

  json::object head() const {
    return json::object{
        {"id", kAnswerId}, {"object", "chat.completion.chunk"}, {"created", created_}, {"model", model_}};
  }

  json::object chunk(json::object delta, std::string_view finish = {}) const {
    auto out = head();
    json::object choice{{"index", 0}, {"delta", std::move(delta)}};
    choice["finish_reason"] = finish.empty() ? json::value(nullptr) : json::value(finish);
    out["choices"] = json::array{std::move(choice)};
    return out;
  }

  json::stream_parser parser_;
  std::string model_;
  std::int64_t created_ = 0;
  bool started_ = false;
  bool delivered_ = false;  // text, reasoning or a tool call reached the client
  bool complete_ = false;
  std::int64_t calls_ = 0;  // tool calls so far: the next call's index (signed, as OpenAI's "index")
  CallIds ids_;
};

}  // namespace

std::unique_ptr<StreamDecoder> make_ndjson_decoder(std::string_view model) {
  return std::make_unique<NdjsonDecoder>(model);
}

}  // namespace anygpt::formats::ollama
