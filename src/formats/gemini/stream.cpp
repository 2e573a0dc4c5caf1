#include "formats/gemini/stream.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "formats/gemini/answer.hpp"
#include "formats/gemini/gemini.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

json::object text_candidate(std::int64_t index, std::string_view text) {
  json::object content{{"role", "model"}, {"parts", json::array{json::object{{"text", text}}}}};
  return json::object{{"content", std::move(content)}, {"index", index}};
}

}  // namespace

GenerateStream::GenerateStream(const AnswerContext& ctx) : model_(ctx.model), request_id_(ctx.request_id) {}

GenerateStream::Candidate& GenerateStream::candidate(std::int64_t index) {
  auto at = std::lower_bound(candidates_.begin(), candidates_.end(), index,
                             [](const Candidate& c, std::int64_t i) { return c.index < i; });
  if (at == candidates_.end() || at->index != index) at = candidates_.insert(at, Candidate{index, {}, {}});
  return *at;
}

void GenerateStream::emit(json::array candidates, json::object* usage, std::string& out) {
  if (response_id_.empty()) response_id_ = request_id_;
  json::object event{{"candidates", std::move(candidates)}};
  if (usage) event["usageMetadata"] = std::move(*usage);
  event["modelVersion"] = model_;
  event["responseId"] = response_id_;
  out += "data: ";
  out += json::serialize(event);
  out += "\r\n\r\n";
}

void GenerateStream::chunk(const json::object& chunk, const Moment&, std::string& out) {
  if (auto id = common::str(chunk, "id"); response_id_.empty() && !id.empty()) response_id_ = id;
  if (const auto* u = chunk.if_contains("usage"); u && u->is_object())
    cached_tokens_ = common::usage_parts(chunk).cached_tokens;
  const auto* choices = chunk.if_contains("choices");
  if (!choices || !choices->is_array()) return;
  json::array texts;
  const auto& list = choices->get_array();
  for (std::size_t k = 0; k < list.size(); ++k) {
    if (!list[k].is_object()) continue;
    const auto& choice = list[k].get_object();
    std::int64_t index = static_cast<std::int64_t>(k);
    if (const auto* i = choice.if_contains("index"); i && i->is_int64()) index = i->get_int64();
    auto& state = candidate(index);
    if (auto reason = common::str(choice, "finish_reason"); !reason.empty()) state.finish_reason = reason;
    const auto* delta = choice.if_contains("delta");
    if (!delta || !delta->is_object()) continue;
    if (auto text = common::str(delta->get_object(), "content"); !text.empty())
      texts.push_back(text_candidate(index, text));
    if (const auto* calls = delta->get_object().if_contains("tool_calls")) state.calls.add(*calls);
  }
  if (!texts.empty()) emit(std::move(texts), nullptr, out);
}

void GenerateStream::finish(const core::Usage& usage, const Moment&, std::string& out) {
  if (candidates_.empty()) candidate(0);
  json::array candidates;
  for (const auto& c : candidates_) {
    json::array parts;
    for (const auto& call : c.calls.calls()) parts.push_back(function_call_part(call.id, call.name, call.arguments));
    if (parts.empty()) parts.push_back(json::object{{"text", ""}});
    json::object content{{"role", "model"}, {"parts", std::move(parts)}};
    candidates.push_back(json::object{
        {"content", std::move(content)}, {"finishReason", finish_reason(c.finish_reason)}, {"index", c.index}});
  }
  auto metadata = usage_metadata(usage, std::min(cached_tokens_, usage.prompt_tokens));
  emit(std::move(candidates), &metadata, out);
}

void GenerateStream::fail(const core::Error& error, std::string& out) {
  out += "data: ";
  out += error_body(error);
  out += "\r\n\r\n";
}

}  // namespace anygpt::formats::gemini
