// formats/gemini/provider_answer: Gemini answers, stream events and errors -> canonical OpenAI objects (the
// decode side of provider_codec(); internal pieces shared by the answer and stream decoders).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "formats/provider.hpp"

namespace anygpt::formats::gemini {

// OpenAI's finish_reason for a Gemini finishReason: STOP stop (tool_calls when the candidate called a
// function), MAX_TOKENS length, SAFETY / RECITATION / BLOCKLIST / PROHIBITED_CONTENT / SPII / IMAGE_SAFETY /
// IMAGE_PROHIBITED_CONTENT / IMAGE_RECITATION content_filter, anything else (MALFORMED_FUNCTION_CALL, OTHER,
// LANGUAGE...) stop.
std::string_view finish_reason_from(std::string_view gemini_reason, bool called_tools);

// OpenAI usage of a usageMetadata: completion = candidates + thoughts; cachedContentTokenCount ->
// prompt_tokens_details.cached_tokens, thoughtsTokenCount -> completion_tokens_details.reasoning_tokens.
boost::json::object usage_from_metadata(const boost::json::object& usage_metadata);

// kUpstreamError "Gemini sent <what>" (code upstream_bad_response) for a body that is not the protocol's.
core::Error malformed(std::string what);

// The error object of a Gemini error body ({"error":{...}} or [{"error":{...}}]); nullptr when there is none.
const boost::json::object* error_object(const boost::json::value& body);
// The canonical error for one: RESOURCE_EXHAUSTED / UNAVAILABLE (or code 429 / 503) kUpstreamUnavailable,
// anything else kUpstreamError; code = the status name, upstream_status = the code.
core::Error upstream_error(const boost::json::object& error);

// A functionCall part of a candidate, viewing into the parsed response.
struct FunctionCallView {
  std::string_view id;  // "" when Gemini gave none
  std::string_view name;
  const boost::json::value* args = nullptr;  // nullptr when absent
  std::string_view signature;                // the part's thoughtSignature ("" when none)
};

// What one candidate (of an answer or of a stream event) carries. Unknown parts are skipped.
struct CandidateView {
  std::int64_t index = 0;
  std::string text;       // text parts joined
  std::string reasoning;  // thought:true text parts joined
  std::vector<FunctionCallView> calls;
  std::string_view finish_reason;  // Gemini's; "" while the candidate is not finished
};
// kUpstreamError when it is not a Candidate object or a functionCall has no name.
core::Result<CandidateView> read_candidate(const boost::json::value& candidate, std::size_t position);

// An OpenAI tool_calls entry {"id","type":"function","function":{"name","arguments"}}, with
// "extra_content":{"google":{"thought_signature"}} when the part was signed; "index" when index >= 0.
boost::json::object tool_call_object(const FunctionCallView& call, const std::string& id, std::int64_t index);

// "chatcmpl-<responseId>" ("chatcmpl-gemini" when the response has none), and modelVersion or `model`.
std::string answer_id(const boost::json::object& response);
std::string answer_model(const boost::json::object& response, std::string_view model);
// promptFeedback.blockReason ("" when the prompt was not blocked).
std::string_view block_reason(const boost::json::object& response);

// A 2xx generateContent body as a chat.completion; a batchEmbedContents body as an OpenAI embeddings list.
core::Result<boost::json::object> chat_answer(std::string_view body, std::string_view model);
core::Result<boost::json::object> embeddings_answer(std::string_view body, std::string_view model);

// One stream event's data parsed into `storage`: a GenerateContentResponse object, or the event's
// in-band error, or kUpstreamError for data that is not a JSON object.
core::Result<boost::json::value> read_stream_event(std::string_view data, boost::json::storage_ptr storage);
// The candidates of one stream event ([] when it has none); kUpstreamError for candidates that are
// not an array or a candidate read_candidate refuses.
core::Result<std::vector<CandidateView>> event_candidates(const boost::json::object& response);

// The decoder of a streamGenerateContent?alt=sse body.
std::unique_ptr<StreamDecoder> make_stream_decoder(std::string_view model);
// The watcher of one relayed untouched to a Gemini client.
std::unique_ptr<StreamWatcher> make_stream_watcher();

}  // namespace anygpt::formats::gemini
