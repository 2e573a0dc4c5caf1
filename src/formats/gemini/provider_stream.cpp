#include <algorithm>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "formats/gemini/provider_answer.hpp"
#include "formats/openai/openai.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

using MaybeError = std::optional<core::Error>;
using Chunks = std::vector<json::object>;

// streamGenerateContent?alt=sse: every "data:" event is a GenerateContentResponse. Each candidate becomes a
// choice (a role chunk when it first appears), text and thought parts content / reasoning_content deltas,
// each functionCall one whole tool-call chunk, a finishReason a finish chunk. The stream ends when every
// candidate seen has finished (or the prompt was blocked); the latest usageMetadata (running totals) is then
// sent as the usage-only chunk, and again if a later event carries a newer one.
class SseDecoder final : public StreamDecoder {
 public:
  explicit SseDecoder(std::string_view model) : model_(model) {}
  MaybeError feed(std::string_view bytes, Chunks& chunks) override;
  bool complete() const override { return complete_; }

 private:
  struct Choice {
    std::int64_t index = 0;
    std::int64_t calls = 0;  // tool calls sent (the next call's "index")
    bool finished = false;
  };
  MaybeError on_event(std::string_view event, Chunks& chunks);
  MaybeError on_response(const json::object& response, Chunks& chunks);
  void on_candidate(const CandidateView& candidate, Chunks& chunks);
  Choice& choice(std::int64_t index, Chunks& chunks);
  void finish(Choice& c, std::string_view reason, Chunks& chunks) const;
  json::object chunk(json::object delta, std::int64_t index, std::string_view finish_reason) const;
  json::object envelope() const;

  openai::SseSplitter splitter_;
  std::string model_;
  std::string id_;  // fixed by the first event
  std::vector<Choice> choices_;
  std::optional<json::object> usage_;
  std::int64_t calls_seen_ = 0;  // for generated ids ("call_<n>", unique in the stream)
  bool complete_ = false;
};

MaybeError SseDecoder::feed(std::string_view bytes, Chunks& chunks) {
  splitter_.append(bytes);
  while (auto event = splitter_.next_event())
    if (auto e = on_event(*event, chunks)) return e;
  return std::nullopt;
}

MaybeError SseDecoder::on_event(std::string_view event, Chunks& chunks) {
  std::string_view data;
  std::string joined;
  if (!openai::event_payload(event, data, joined)) return std::nullopt;  // comments, field-only events
  if (data.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  unsigned char block[4096];  // events are small: the DOM lives on the stack, chunks get their own storage
  json::monotonic_resource arena(block, sizeof block);
  auto v = read_stream_event(data, &arena);
  if (!v) return v.error();
  return on_response(v->get_object(), chunks);
}

MaybeError SseDecoder::on_response(const json::object& response, Chunks& chunks) {
  if (id_.empty()) {
    id_ = answer_id(response);
    model_ = answer_model(response, model_);
  }
  const auto* u = response.if_contains("usageMetadata");
  if (u && u->is_object()) usage_ = usage_from_metadata(u->get_object());
  bool was_complete = complete_;
  auto candidates = event_candidates(response);
  if (!candidates) return candidates.error();
  if (!candidates->empty()) {
    for (const auto& c : *candidates) on_candidate(c, chunks);
    complete_ = std::all_of(choices_.begin(), choices_.end(), [](const Choice& c) { return c.finished; });
  } else if (!block_reason(response).empty()) {
    finish(choice(0, chunks), "content_filter", chunks);
    complete_ = true;
  }
  bool send_usage = complete_ && (!was_complete || (u && u->is_object()));
  if (usage_ && send_usage) {
    json::object usage_chunk = envelope();
    usage_chunk["choices"] = json::array();
    usage_chunk["usage"] = *usage_;
    chunks.push_back(std::move(usage_chunk));
  }
  return std::nullopt;
}

void SseDecoder::on_candidate(const CandidateView& candidate, Chunks& chunks) {
  auto& c = choice(candidate.index, chunks);
  if (!candidate.reasoning.empty())
    chunks.push_back(chunk(json::object{{"reasoning_content", candidate.reasoning}}, c.index, {}));
  if (!candidate.text.empty()) chunks.push_back(chunk(json::object{{"content", candidate.text}}, c.index, {}));
  for (const auto& call : candidate.calls) {
    std::string id = call.id.empty() ? "call_" + std::to_string(calls_seen_) : std::string(call.id);
    ++calls_seen_;
    json::array fragments;
    fragments.push_back(tool_call_object(call, id, c.calls++));
    json::object delta;
    delta["tool_calls"] = std::move(fragments);
    chunks.push_back(chunk(std::move(delta), c.index, {}));
  }
  if (!candidate.finish_reason.empty()) finish(c, finish_reason_from(candidate.finish_reason, c.calls > 0), chunks);
}

// The choice of a candidate index; a new one starts with the role chunk.
SseDecoder::Choice& SseDecoder::choice(std::int64_t index, Chunks& chunks) {
  auto at = std::find_if(choices_.begin(), choices_.end(), [index](const Choice& c) { return c.index == index; });
  if (at != choices_.end()) return *at;
  chunks.push_back(chunk(json::object{{"role", "assistant"}, {"content", ""}}, index, {}));
  choices_.push_back(Choice{index, 0, false});
  return choices_.back();
}

void SseDecoder::finish(Choice& c, std::string_view reason, Chunks& chunks) const {
  if (c.finished) return;
  c.finished = true;
  chunks.push_back(chunk(json::object{}, c.index, reason));
}

json::object SseDecoder::chunk(json::object delta, std::int64_t index, std::string_view finish_reason) const {
  json::object choice;
  choice["index"] = index;
  choice["delta"] = std::move(delta);
  choice["finish_reason"] = finish_reason.empty() ? json::value(nullptr) : json::value(finish_reason);
  json::object out = envelope();
  json::array choices;
  choices.push_back(std::move(choice));
  out["choices"] = std::move(choices);
  return out;
}

json::object SseDecoder::envelope() const {
  json::object out;
  out["id"] = id_;
  out["object"] = "chat.completion.chunk";
  out["created"] = 0;
  out["model"] = model_;
  return out;
}

}  // namespace

core::Result<json::value> read_stream_event(std::string_view data, json::storage_ptr storage) {
  json::error_code ec;
  auto v = json::parse(data, ec, std::move(storage));
  if (ec) return malformed("a stream event that is not JSON (" + ec.message() + ")");
  if (const auto* e = error_object(v)) return upstream_error(*e);
  if (!v.is_object()) return malformed("a stream event that is not a JSON object");
  return v;
}

core::Result<std::vector<CandidateView>> event_candidates(const json::object& response) {
  std::vector<CandidateView> out;
  const auto* candidates = response.if_contains("candidates");
  if (!candidates) return out;
  if (!candidates->is_array()) return malformed("stream candidates that are not an array");
  const auto& list = candidates->get_array();
  for (std::size_t k = 0; k < list.size(); ++k) {
    auto c = read_candidate(list[k], k);
    if (!c) return c.error();
    out.push_back(std::move(*c));
  }
  return out;
}

std::unique_ptr<StreamDecoder> make_stream_decoder(std::string_view model) {
  return std::make_unique<SseDecoder>(model);
}

}  // namespace anygpt::formats::gemini
