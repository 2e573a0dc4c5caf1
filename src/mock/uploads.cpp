#include "mock/uploads.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cstdio>

#include "formats/common/multipart.hpp"
#include "mock/openai_errors.hpp"

namespace anygpt::mock {
namespace json = boost::json;
using formats::common::Form;

namespace {

core::Result<Form> parse_form(std::string_view content_type, std::string_view body) {
  auto boundary = formats::common::form_boundary(content_type);
  if (boundary.empty()) return invalid_request("Content-Type must be multipart/form-data with a boundary", {});
  formats::common::MultipartScanner scanner(boundary);
  if (auto e = scanner.feed(body)) return invalid_request(e->message, {});
  return scanner.finish();
}

const formats::common::FormPart* file_part(const Form& form, std::string_view name) {
  for (const auto& p : form.parts)
    if (p.is_file && p.name == name) return &p;
  return nullptr;
}

std::string fnv1a(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::int64_t seconds_of(const TranscriptionPlan& plan) {
  return std::max<std::int64_t>(1, static_cast<std::int64_t>((plan.file_bytes + 31999) / 32000));
}

// "00:00:07,000" (srt) or "00:00:07.000" (vtt).
std::string timestamp(std::int64_t s, char separator) {
  char out[64];
  std::snprintf(out, sizeof out, "%02lld:%02lld:%02lld%c000", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60), separator);
  return out;
}

}  // namespace

core::Result<TranscriptionPlan> plan_transcription(std::string_view content_type, std::string_view body,
                                                   bool translation) {
  auto form = parse_form(content_type, body);
  if (!form) return form.error();
  TranscriptionPlan plan;
  plan.translation = translation;
  const auto* file = file_part(*form, "file");
  if (!file) return invalid_request("Missing required parameter: 'file'.", "file");
  const auto* model = form->text("model");
  if (!model || model->value.empty()) return invalid_request("you must provide a model parameter", "model");
  plan.model = model->value;
  plan.filename = file->filename;
  plan.file_bytes = file->size;
  plan.file_digest = fnv1a(body.substr(file->offset, file->size));
  if (const auto* f = form->text("response_format")) {
    const bool known = f->value == "json" || f->value == "text" || f->value == "srt" || f->value == "verbose_json" ||
                       f->value == "vtt" || (!translation && f->value == "diarized_json");
    if (!known) return invalid_request("'" + f->value + "' is not a valid response_format", "response_format");
    plan.response_format = f->value;
  }
  if (const auto* s = form->text("stream"); s && !translation) {
    if (s->value != "true" && s->value != "false") return invalid_request("stream must be a boolean", "stream");
    plan.stream = s->value == "true";
  }
  return plan;
}

std::string transcription_text(const TranscriptionPlan& plan) {
  return plan.filename + ": " + std::to_string(plan.file_bytes) + " bytes, fnv " + plan.file_digest;
}

namespace {

json::object token_usage(const TranscriptionPlan& plan, std::string_view text) {
  const auto input = seconds_of(plan) * 10;
  const auto output = static_cast<std::int64_t>((text.size() + 3) / 4);
  return json::object{
      {"type", "tokens"}, {"input_tokens", input}, {"output_tokens", output}, {"total_tokens", input + output}};
}

void data_event(const json::object& o, SseEvents& events) {
  events.buffer() += "data: ";
  events.buffer() += json::serialize(o);
  events.buffer() += "\n\n";
  events.end_event();
}

}  // namespace

SseEvents transcription_events(const TranscriptionPlan& plan, std::int64_t content_chunks) {
  const auto text = transcription_text(plan);
  SseEvents events;
  events.begin_content();
  for (auto piece : split_text(text, content_chunks))
    data_event(json::object{{"type", "transcript.text.delta"}, {"delta", piece}}, events);
  events.end_content();
  data_event(json::object{{"type", "transcript.text.done"}, {"text", text}, {"usage", token_usage(plan, text)}},
             events);
  return events;
}

TranscriptionAnswer transcription_answer(const TranscriptionPlan& plan) {
  const auto text = transcription_text(plan);
  const auto seconds = seconds_of(plan);
  const auto& format = plan.response_format;
  if (format == "text") return {"text/plain; charset=utf-8", text + "\n"};
  if (format == "srt")
    return {"text/plain; charset=utf-8",
            "1\n" + timestamp(0, ',') + " --> " + timestamp(seconds, ',') + "\n" + text + "\n\n"};
  if (format == "vtt")
    return {"text/plain; charset=utf-8",
            "WEBVTT\n\n" + timestamp(0, '.') + " --> " + timestamp(seconds, '.') + "\n" + text + "\n\n"};
  json::object out{{"text", text}};
  if (format == "verbose_json") {
    out["task"] = plan.translation ? "translate" : "transcribe";
    out["language"] = "english";
    out["duration"] = seconds;
    out["segments"] = json::array{json::object{{"id", 0}, {"start", 0.0}, {"end", seconds}, {"text", text}}};
  } else if (plan.model.rfind("gpt-4o", 0) == 0) {
    out["usage"] = token_usage(plan, text);
  } else {
    out["usage"] = json::object{{"type", "duration"}, {"seconds", seconds}};
  }
  return {"application/json", json::serialize(out)};
}

core::Result<ImagePlan> plan_image_edit(std::string_view content_type, std::string_view body) {
  auto form = parse_form(content_type, body);
  if (!form) return form.error();
  if (!file_part(*form, "image") && !file_part(*form, "image[]"))
    return invalid_request("Missing required parameter: 'image'.", "image");
  ImagePlan plan;
  const auto* prompt = form->text("prompt");
  if (!prompt || prompt->value.empty()) return invalid_request("Missing required parameter: 'prompt'.", "prompt");
  plan.prompt = prompt->value;
  const auto* model = form->text("model");
  plan.model = model && !model->value.empty() ? model->value : "dall-e-2";
  plan.gpt_image = plan.model.rfind("gpt-image", 0) == 0;
  if (const auto* n = form->text("n")) {
    auto [end, ec] = std::from_chars(n->value.data(), n->value.data() + n->value.size(), plan.n);
    if (ec != std::errc() || end != n->value.data() + n->value.size() || plan.n < 1 || plan.n > 10)
      return invalid_request("n must be an integer from 1 to 10", "n");
  }
  const auto* format = form->text("response_format");
  plan.b64_json = plan.gpt_image || (format && format->value == "b64_json");
  return plan;
}

}  // namespace anygpt::mock
