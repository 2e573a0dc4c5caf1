#include <algorithm>
#include <boost/json.hpp>

#include "formats/common/chunks.hpp"
#include "formats/gemini/provider_answer.hpp"

namespace anygpt::formats::gemini {
namespace json = boost::json;

namespace {

// A token count (0 when absent, negative or not a number).
std::int64_t count(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  json::error_code ec;
  std::int64_t n = v && v->is_number() ? v->to_number<std::int64_t>(ec) : 0;
  return ec || n < 0 ? 0 : n;
}

bool is_thought(const json::object& part) {
  const auto* t = part.if_contains("thought");
  return t && t->is_bool() && t->get_bool();
}

}  // namespace

core::Error malformed(std::string what) {
  return core::make_error(core::ErrorKind::kUpstreamError, "Gemini sent " + what, {}, "upstream_bad_response");
}

std::string_view finish_reason_from(std::string_view gemini_reason, bool called_tools) {
  static constexpr std::string_view kFiltered[] = {"SAFETY",
                                                   "RECITATION",
                                                   "BLOCKLIST",
                                                   "PROHIBITED_CONTENT",
                                                   "SPII",
                                                   "IMAGE_SAFETY",
                                                   "IMAGE_PROHIBITED_CONTENT",
                                                   "IMAGE_RECITATION"};
  if (gemini_reason == "MAX_TOKENS") return "length";
  if (std::find(std::begin(kFiltered), std::end(kFiltered), gemini_reason) != std::end(kFiltered))
    return "content_filter";
  return called_tools ? "tool_calls" : "stop";
}

json::object usage_from_metadata(const json::object& metadata) {
  // Tool-use prompt tokens (search or code results Gemini fed back) are prompt tokens too.
  std::int64_t prompt = count(metadata, "promptTokenCount") + count(metadata, "toolUsePromptTokenCount");
  std::int64_t thoughts = count(metadata, "thoughtsTokenCount");
  std::int64_t completion = count(metadata, "candidatesTokenCount") + thoughts;
  std::int64_t total = metadata.contains("totalTokenCount") ? count(metadata, "totalTokenCount") : prompt + completion;
  json::object usage{{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", total}};
  if (std::int64_t cached = count(metadata, "cachedContentTokenCount"); cached > 0)
    usage["prompt_tokens_details"] = json::object{{"cached_tokens", std::min(cached, prompt)}};
  if (thoughts > 0) usage["completion_tokens_details"] = json::object{{"reasoning_tokens", thoughts}};
  return usage;
}

const json::object* error_object(const json::value& body) {
  const json::value* v = &body;
  if (body.is_array() && !body.get_array().empty()) v = &body.get_array().front();
  const auto* e = v->is_object() ? v->get_object().if_contains("error") : nullptr;
  return e && e->is_object() ? &e->get_object() : nullptr;
}

core::Error upstream_error(const json::object& error) {
  std::string status(common::str(error, "status"));
  std::int64_t code = count(error, "code");
  bool overloaded = status == "RESOURCE_EXHAUSTED" || status == "UNAVAILABLE" || code == 429 || code == 503;
  std::string message(common::str(error, "message"));
  if (message.empty()) message = json::serialize(error).substr(0, 500);
  auto e = core::make_error(overloaded ? core::ErrorKind::kUpstreamUnavailable : core::ErrorKind::kUpstreamError,
                            "Gemini reported an error" + (status.empty() ? "" : " (" + status + ")") + ": " + message,
                            {}, status);
  e.upstream_status = static_cast<int>(code);
  return e;
}

core::Result<CandidateView> read_candidate(const json::value& candidate, std::size_t position) {
  if (!candidate.is_object()) return malformed("a candidate that is not an object");
  const auto& c = candidate.get_object();
  CandidateView out;
  out.index = static_cast<std::int64_t>(position);
  if (const auto* i = c.if_contains("index"); i && i->is_int64()) out.index = i->get_int64();
  if (auto reason = common::str(c, "finishReason"); reason != "FINISH_REASON_UNSPECIFIED") out.finish_reason = reason;
  const auto* content = c.if_contains("content");
  const auto* parts = content && content->is_object() ? content->get_object().if_contains("parts") : nullptr;
  if (!parts || !parts->is_array()) return out;
  for (const auto& p : parts->get_array()) {
    if (!p.is_object()) continue;
    const auto& part = p.get_object();
    if (const auto* t = part.if_contains("text"); t && t->is_string()) {
      (is_thought(part) ? out.reasoning : out.text) += t->get_string();
    } else if (const auto* f = part.if_contains("functionCall"); f && f->is_object()) {
      const auto& fc = f->get_object();
      FunctionCallView call{common::str(fc, "id"), common::str(fc, "name"), fc.if_contains("args"),
                            common::str(part, "thoughtSignature")};
      if (call.name.empty()) return malformed("a functionCall without a name");
      out.calls.push_back(call);
    }
  }
  return out;
}

json::object tool_call_object(const FunctionCallView& call, const std::string& id, std::int64_t index) {
  json::object out;
  if (index >= 0) out["index"] = index;
  out["id"] = id;
  out["type"] = "function";
  std::string arguments = call.args && !call.args->is_null() ? json::serialize(*call.args) : "{}";
  out["function"] = json::object{{"name", call.name}, {"arguments", std::move(arguments)}};
  if (!call.signature.empty())
    out["extra_content"] = json::object{{"google", json::object{{"thought_signature", call.signature}}}};
  return out;
}

std::string answer_id(const json::object& response) {
  auto id = common::str(response, "responseId");
  return "chatcmpl-" + std::string(id.empty() ? "gemini" : id);
}

std::string answer_model(const json::object& response, std::string_view model) {
  auto version = common::str(response, "modelVersion");
  return std::string(version.empty() ? model : version);
}

std::string_view block_reason(const json::object& response) {
  const auto* feedback = response.if_contains("promptFeedback");
  return feedback && feedback->is_object() ? common::str(feedback->get_object(), "blockReason") : std::string_view();
}

}  // namespace anygpt::formats::gemini
