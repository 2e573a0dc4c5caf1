// formats/openai/capabilities: which model capabilities an OpenAI chat request needs (image or
// audio in/out, tools), as a bit mask, and the names models.json uses for them. Pure.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace anygpt::formats::openai {

// Bits of a capability mask. The names (capability_from_name) are models.json's "capabilities"
// and providers.json's "capability_skips" keys.
enum Capability : unsigned {
  kText = 1,
  kImageInput = 2,
  kImageOutput = 4,
  kAudioInput = 8,
  kAudioOutput = 16,
  kTools = 32,
  // Continues a final assistant message (prefill) instead of answering anew: what a stream cut
  // mid-answer is finished with (never required by a request; see pipeline/continuation).
  kAssistantPrefill = 64,
};

// The capabilities a chat request needs beyond plain text (kText is never set: every chat model
// is assumed to take text). Detected like the original (reference §6.2 step 8): an "image_url" or
// "input_image" content part -> kImageInput; "input_audio" -> kAudioInput; a text part (or
// string content) containing "[image_output]" -> kImageOutput; "modalities" containing "image" ->
// kImageOutput, "audio" -> kAudioOutput; a non-null "audio" -> kAudioOutput; a non-empty "tools"
// or "functions" array -> kTools. Unlike the original, nothing is inferred from the model name.
// Malformed parts of the request are skipped (validation is inspect_chat_request's job).
unsigned required_capabilities(const boost::json::object& chat_request);

// "text", "image_input", "image_output", "audio_input", "audio_output", "tools",
// "assistant_prefill"; nullopt otherwise.
std::optional<Capability> capability_from_name(std::string_view name);

// The names of the bits set in `mask`, comma-separated in enum order ("image_input,tools");
// unknown bits are ignored, an empty mask gives "".
std::string capability_names(unsigned mask);

}  // namespace anygpt::formats::openai
