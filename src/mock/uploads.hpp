// mock: the multipart uploads OpenAI answers, as pure functions: transcriptions and translations
// (https://platform.openai.com/docs/api-reference/audio/createTranscription) and image edits
// (https://platform.openai.com/docs/api-reference/images/createEdit).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "mock/chat_responder.hpp"
#include "mock/media.hpp"

namespace anygpt::mock {

struct TranscriptionPlan {
  std::string model;
  std::string filename;
  std::uint64_t file_bytes = 0;
  std::string file_digest;               // FNV-1a 64 of the file's bytes, 16 hex digits
  std::string response_format = "json";  // json, text, srt, verbose_json, vtt, diarized_json
  bool translation = false;
  bool stream = false;  // transcriptions only: the form's "stream" is "true"
};

// A multipart/form-data body with `file` (a file part) and `model` required; response_format as
// OpenAI lists it. 400s as OpenAI words them.
core::Result<TranscriptionPlan> plan_transcription(std::string_view content_type, std::string_view body,
                                                   bool translation);

// The text heard: "<filename>: <bytes> bytes, fnv <digest>" (so a test can tell the file arrived whole).
std::string transcription_text(const TranscriptionPlan& plan);

struct TranscriptionAnswer {
  std::string content_type;
  std::string body;
};
// The answer in the plan's response_format. The audio lasts ceil(bytes / 32000) s. json reports
// usage {"type":"duration","seconds"} (whisper), or {"type":"tokens",...} for gpt-4o* models;
// verbose_json a duration and segments; text, srt and vtt are plain text.
TranscriptionAnswer transcription_answer(const TranscriptionPlan& plan);

// A streamed transcription: `data: {"type":"transcript.text.delta","delta"}` events (one per
// `content_chunks` piece of the text, 0: ~3 characters each), then transcript.text.done with the
// whole text and the tokens usage, as OpenAI streams gpt-4o-transcribe (no [DONE]).
SseEvents transcription_events(const TranscriptionPlan& plan, std::int64_t content_chunks);

// An image edit: `image` or `image[]` file parts and `prompt` required; n, response_format,
// model as for generations. The answer is images_body's.
core::Result<ImagePlan> plan_image_edit(std::string_view content_type, std::string_view body);

}  // namespace anygpt::mock
