#include "formats/gemini/provider_answer.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <utility>

#include "formats/common/chunks.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

// The body parsed into `arena` (an object); a Gemini error body gives its error.
core::Result<json::value> parse_response(std::string_view body, json::monotonic_resource& arena,
                                         std::string_view what) {
  json::error_code ec;
  json::value v = json::parse(body, ec, &arena);
  if (ec) return malformed(std::string(what) + " that is not JSON (" + ec.message() + ")");
  if (const auto* e = error_object(v)) return upstream_error(*e);
  if (!v.is_object()) return malformed(std::string(what) + " that is not a JSON object");
  return v;
}

json::object choice_object(std::int64_t index, json::object message, std::string_view finish_reason) {
  json::object choice;
  choice["index"] = index;
  choice["message"] = std::move(message);
  choice["finish_reason"] = finish_reason;
  return choice;
}

// Text -> content (null when the candidate only called functions), thoughts -> reasoning_content, function
// calls -> tool_calls with Gemini's id or "call_<n>" (n counts the answer's calls, so ids are unique in it).
json::object answer_choice(const CandidateView& c, std::int64_t& calls_seen) {
  json::object message{{"role", "assistant"}};
  message["content"] = c.calls.empty() || !c.text.empty() ? json::value(c.text) : json::value(nullptr);
  if (!c.reasoning.empty()) message["reasoning_content"] = c.reasoning;
  if (!c.calls.empty()) {
    json::array calls;
    for (const auto& call : c.calls) {
      std::string id = call.id.empty() ? "call_" + std::to_string(calls_seen) : std::string(call.id);
      ++calls_seen;
      calls.push_back(tool_call_object(call, id, -1));
    }
    message["tool_calls"] = std::move(calls);
  }
  return choice_object(c.index, std::move(message), finish_reason_from(c.finish_reason, !c.calls.empty()));
}

// One choice per candidate; a prompt Gemini blocked (no candidates, promptFeedback.blockReason) is one
// empty content_filter choice.
core::Result<json::array> answer_choices(const json::object& response) {
  json::array choices;
  const auto* candidates = response.if_contains("candidates");
  if (candidates && !candidates->is_array()) return malformed("candidates that are not an array");
  if (!candidates || candidates->get_array().empty()) {
    if (block_reason(response).empty()) return malformed("an answer without candidates");
    choices.push_back(choice_object(0, json::object{{"role", "assistant"}, {"content", ""}}, "content_filter"));
    return choices;
  }
  std::int64_t calls_seen = 0;
  const auto& list = candidates->get_array();
  for (std::size_t k = 0; k < list.size(); ++k) {
    auto c = read_candidate(list[k], k);
    if (!c) return c.error();
    choices.push_back(answer_choice(*c, calls_seen));
  }
  return choices;
}

}  // namespace

core::Result<json::object> chat_answer(std::string_view body, std::string_view model) {
  json::monotonic_resource arena;  // the upstream DOM lives only while the answer is built
  auto response = parse_response(body, arena, "an answer");
  if (!response) return response.error();
  const auto& r = response->get_object();
  auto choices = answer_choices(r);
  if (!choices) return choices.error();
  json::object out;
  out["id"] = answer_id(r);
  out["object"] = "chat.completion";
  out["created"] = 0;
  out["model"] = answer_model(r, model);
  out["choices"] = std::move(*choices);
  if (const auto* u = r.if_contains("usageMetadata"); u && u->is_object())
    out["usage"] = usage_from_metadata(u->get_object());
  return out;
}

// Gemini reports no usage for embeddings: the list has none then (the pipeline bills an estimate);
// a Vertex-style usageMetadata.promptTokenCount is read when present.
core::Result<json::object> embeddings_answer(std::string_view body, std::string_view model) {
  json::monotonic_resource arena;
  auto response = parse_response(body, arena, "an embeddings answer");
  if (!response) return response.error();
  const auto& r = response->get_object();
  const auto* embeddings = r.if_contains("embeddings");
  if (!embeddings || !embeddings->is_array()) return malformed("an embeddings answer without an embeddings array");
  json::array data;
  const auto& list = embeddings->get_array();
  for (std::size_t k = 0; k < list.size(); ++k) {
    const auto* values = list[k].is_object() ? list[k].get_object().if_contains("values") : nullptr;
    if (!values || !values->is_array()) return malformed("an embedding without a values array");
    json::object entry{{"object", "embedding"}, {"index", k}};
    entry["embedding"] = json::value(*values, json::storage_ptr{});
    data.push_back(std::move(entry));
  }
  json::object out{{"object", "list"}};
  out["data"] = std::move(data);
  out["model"] = model;
  if (const auto* u = r.if_contains("usageMetadata"); u && u->is_object()) {
    const auto* n = u->get_object().if_contains("promptTokenCount");
    json::error_code ec;
    if (n && n->is_number()) {
      auto prompt = std::max<std::int64_t>(0, n->to_number<std::int64_t>(ec));
      out["usage"] = json::object{{"prompt_tokens", prompt}, {"total_tokens", prompt}};
    }
  }
  return out;
}

}  // namespace anygpt::formats::gemini
