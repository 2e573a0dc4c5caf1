// formats/openai/upload_codec: the multipart/form-data uploads of /v1 as formats::Codecs
// (Codec::takes_form): POST /v1/images/edits, /v1/audio/transcriptions and
// /v1/audio/translations. OpenAI-host operations: the client's form goes upstream as it is (only
// the model renamed) and the answer comes back as the host sent it (JSON, or text, srt, vtt).
// decode() sees the form's fields (formats::common::form_fields) and checks what the route needs
// before anything goes upstream (kInvalidRequest naming the field). The model is the form's
// `model` field (what the SDK sends), else the route's `?model=` (the original's way).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string_view>

#include "core/usage.hpp"
#include "formats/codec.hpp"

namespace anygpt::formats::openai {

// `image` or `image[]`: one or more file parts (required); `mask` a file part; `prompt` a
// non-empty text; `n` 1-10; `response_format` url or b64_json; `model` (absent: "dall-e-2",
// OpenAI's default); `stream` true is not relayed (400).
const Codec& image_edits_codec();

// `file` an audio file part (required); `model` required; `response_format` json, text, srt,
// verbose_json, vtt (transcriptions also diarized_json); `stream` true is not relayed (400).
const Codec& transcriptions_codec();
const Codec& translations_codec();

// What a transcription or translation answer is billed: the host's usage.total_tokens, else 10
// tokens per second of audio from usage.seconds or verbose_json's duration (the rate of
// gpt-4o's audio input), else nothing known (present = false: the caller charges its estimate).
core::Usage transcription_usage(std::string_view answer);

// What an upload is billed when the host reports no usage (the original's charges): image edits
// ceil(prompt / 4) + 500 per image; transcriptions and translations a flat 100.
std::int64_t estimate_upload_tokens(Operation op, const boost::json::object& form);

}  // namespace anygpt::formats::openai
