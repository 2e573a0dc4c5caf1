// formats/openai/media_codec: POST /v1/images/generations, /v1/audio/speech and
// /v1/videos/generations as formats::Codecs. Both are OpenAI-host operations: the client's bytes go upstream as they
// are and the answer (JSON images, binary audio) comes back as it is. decode() checks what the route needs before
// anything goes upstream (kInvalidRequest naming the field).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/codec.hpp"

namespace anygpt::formats::openai {

// `prompt` a non-empty string; `model` (absent: "dall-e-2", OpenAI's default); `n` 1-10;
// `response_format` url or b64_json; `stream` (partial images) is not relayed: 400.
const Codec& images_codec();

// `model`; `input` a non-empty string of at most 4096 characters; `voice` a name or {"id"};
// `response_format` mp3, opus, aac, flac, wav or pcm; `speed` 0.25-4; `stream_format` "sse" is
// not relayed (400): the audio streams as bytes.
const Codec& speech_codec();

// POST /v1/videos/generations: `prompt` (or the original's `input`) a non-empty string; `model`
// required. The answer (a job id as `request_id` or `id`) comes back as the host sent it.
const Codec& videos_codec();

// The job id of a video generation answer (`request_id`, else `id`); "" when it has none.
std::string video_job_id(std::string_view answer);

// What to bill when the host reports no usage (the original's charges): images ceil(prompt / 4)
// + 500 per image (videos: the same for one); speech ceil(input chars / 4).
std::int64_t estimate_image_tokens(const boost::json::object& request);
std::int64_t estimate_speech_tokens(const boost::json::object& request);

}  // namespace anygpt::formats::openai
