// mock: the speech and image-generation answers as pure functions
// (https://platform.openai.com/docs/api-reference/audio/createSpeech,
// https://platform.openai.com/docs/api-reference/images/create).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace anygpt::mock {

struct SpeechPlan {
  std::string model;
  std::string input;
  std::string content_type;  // of response_format: mp3 audio/mpeg (default), opus, aac, flac, wav, pcm
  std::size_t bytes_per_char = 512;
};

// `model`, `input` (1-4096 characters) and `voice` (a name or {"id"}) required; response_format
// one of mp3 opus aac flac wav pcm; speed 0.25-4.
core::Result<SpeechPlan> plan_speech(std::string_view body);

// Deterministic audio bytes for a plan: a format marker ("ID3" for mp3, "OggS", "fLaC",
// "RIFF"...), then bytes_per_char bytes per input character derived from the input (same input, same bytes).
std::string speech_bytes(const SpeechPlan& plan);

struct ImagePlan {
  std::string model;
  std::string prompt;
  int n = 1;               // 1-10
  bool b64_json = false;   // response_format b64_json (gpt-image-* always answer b64_json)
  bool gpt_image = false;  // the model's name starts with gpt-image: usage is reported
};

// `prompt` (non-empty) required; `model` optional (default dall-e-2, as OpenAI); n 1-10;
// response_format url or b64_json.
core::Result<ImagePlan> plan_images(std::string_view body);

// {"created","data":[{"url"} or {"b64_json"} (a 1x1 PNG), "revised_prompt"],"usage"? (gpt-image-*:
// input_tokens = ceil(prompt/4), output_tokens = 272 per image)}.
std::string images_body(const ImagePlan& plan, std::int64_t created);

// Video jobs: `model` and `prompt` (or `input`) required. The answer to the POST,
// {"request_id","status":"pending"}, and what a poll of the job answers,
// {"request_id","status":"done","video":{"url"}}.
struct VideoPlan {
  std::string model;
};
core::Result<VideoPlan> plan_video(std::string_view body);
std::string video_started_body(std::string_view id);
std::string video_done_body(std::string_view id);

}  // namespace anygpt::mock
