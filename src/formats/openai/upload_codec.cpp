#include "formats/openai/upload_codec.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "formats/common/chunks.hpp"
#include "formats/openai/media_common.hpp"
#include "formats/openai/openai.hpp"
#include "formats/openai/stream_inspect.hpp"

namespace anygpt::formats::openai {
namespace json = boost::json;

namespace {
using namespace media;  // NOLINT(google-build-using-namespace): this file's own helpers

bool is_file(const json::value* v) {
  return v && v->is_object() && v->get_object().contains("filename");
}

// A field that must be sent once, as text: nullptr when absent.
core::Result<const json::value*> text_field(const json::object& form, std::string_view name) {
  const auto* v = form.if_contains(name);
  if (!v) return static_cast<const json::value*>(nullptr);
  if (!v->is_string()) {
    std::string message = "'";  // (appended: GCC 12 -O3 warns falsely on "x" + string + "y")
    message.append(name).append("' must be sent once, as a text field");
    return invalid(std::move(message), std::string(name));
  }
  return v;
}

// The integer a text field holds, or nullopt.
std::optional<std::int64_t> integer(const json::value& v) {
  auto s = v.get_string();
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// The model: the form's field, else the route's (?model=).
core::Result<std::string> model_of(const json::object& form, const RouteParams& route, const char* fallback) {
  auto model = text_field(form, "model");
  if (!model) return model.error();
  if (*model) {
    if (!non_empty_string(*model)) return invalid("'model' must be a non-empty string", "model");
    return std::string((*model)->get_string());
  }
  if (!route.model.empty()) return std::string(route.model);
  if (fallback) return std::string(fallback);
  return invalid("'model' is required (a form field, or ?model=)", "model");
}

std::optional<core::Error> refuse_stream(const json::object& form) {
  const auto* s = form.if_contains("stream");
  if (s && s->is_string() && s->get_string() == "true")
    return invalid("This upload has no streamed answer; omit 'stream'", "stream");
  return std::nullopt;
}

class UploadCodec : public media::RelayingCodec {
 public:
  bool takes_form() const override { return true; }
};

class ImageEditsCodec final : public UploadCodec {
 public:
  core::Result<Canonical> decode(const json::value& body, const RouteParams& route) const override {
    const auto& form = body.as_object();
    const json::value* image = form.if_contains("image");
    if (!image) image = form.if_contains("image[]");
    bool images_ok = is_file(image);
    if (image && image->is_array()) {
      images_ok = !image->get_array().empty();
      for (const auto& i : image->get_array()) images_ok = images_ok && is_file(&i);
    }
    if (!images_ok) return invalid("'image' is required: one or more image files", "image");
    if (const auto* mask = form.if_contains("mask"); mask && !is_file(mask))
      return invalid("'mask' must be one image file", "mask");
    auto prompt = text_field(form, "prompt");
    if (!prompt) return prompt.error();
    if (!non_empty_string(*prompt)) return invalid("'prompt' is required", "prompt");
    auto n = text_field(form, "n");
    if (!n) return n.error();
    if (*n) {
      auto count = integer(**n);
      if (!count || *count < 1 || *count > 10) return invalid("'n' must be an integer from 1 to 10", "n");
    }
    auto format = text_field(form, "response_format");
    if (!format) return format.error();
    if (*format && !one_of(**format, {"url", "b64_json"}))
      return invalid("'response_format' must be \"url\" or \"b64_json\"", "response_format");
    if (auto e = refuse_stream(form)) return *e;
    auto model = model_of(form, route, "dall-e-2");
    if (!model) return model.error();
    return passthrough(Operation::kImageEdits, std::move(*model));
  }
};

class AudioUploadCodec final : public UploadCodec {
 public:
  AudioUploadCodec(Operation op, std::initializer_list<std::string_view> formats) : op_(op), formats_(formats) {}

  bool known_format(const json::value& v) const {
    return v.is_string() &&
           std::find(formats_.begin(), formats_.end(), std::string_view(v.get_string())) != formats_.end();
  }

  core::Result<Canonical> decode(const json::value& body, const RouteParams& route) const override {
    const auto& form = body.as_object();
    if (!is_file(form.if_contains("file"))) return invalid("'file' is required: one audio file", "file");
    auto format = text_field(form, "response_format");
    if (!format) return format.error();
    if (*format && !known_format(**format)) {
      std::string list;
      for (auto f : formats_) list.append(list.empty() ? "" : ", ").append(f);
      return invalid("'response_format' must be one of " + list, "response_format");
    }
    bool stream = false;
    if (op_ == Operation::kTranscriptions) {  // (translations have no stream)
      auto s = text_field(form, "stream");
      if (!s) return s.error();
      if (*s && !one_of(**s, {"true", "false"})) return invalid("'stream' must be \"true\" or \"false\"", "stream");
      stream = *s && (*s)->get_string() == "true";
    } else if (auto e = refuse_stream(form)) {
      return *e;
    }
    auto model = model_of(form, route, nullptr);
    if (!model) return model.error();
    auto canon = passthrough(op_, std::move(*model));
    canon.stream = stream;  // transcript.text.delta events, relayed as they come
    return canon;
  }

 private:
  Operation op_;
  std::vector<std::string_view> formats_;
};

}  // namespace

const Codec& image_edits_codec() {
  static const ImageEditsCodec kCodec;
  return kCodec;
}

const Codec& transcriptions_codec() {
  static const AudioUploadCodec kCodec(Operation::kTranscriptions,
                                       {"json", "text", "srt", "verbose_json", "vtt", "diarized_json"});
  return kCodec;
}

const Codec& translations_codec() {
  static const AudioUploadCodec kCodec(Operation::kTranslations, {"json", "text", "srt", "verbose_json", "vtt"});
  return kCodec;
}

core::Usage transcription_usage(std::string_view answer) {
  core::Usage usage;
  json::error_code ec;
  auto v = json::parse(answer, ec);
  if (ec || !v.is_object()) return usage;  // text, srt, vtt: nothing reported
  const auto& o = v.get_object();
  double seconds = 0;
  if (const auto* u = o.if_contains("usage"); u && u->is_object()) {
    auto reported = usage_from(o);
    if (reported.present && reported.total_tokens > 0) return reported;
    if (const auto* s = u->get_object().if_contains("seconds"); s && s->is_number()) seconds = s->to_number<double>();
  }
  if (const auto* d = o.if_contains("duration"); seconds <= 0 && d && d->is_number()) seconds = d->to_number<double>();
  if (seconds > 0) {
    usage.prompt_tokens = static_cast<std::int64_t>(std::ceil(seconds * 10));
    usage.total_tokens = usage.prompt_tokens;
    usage.present = true;
  }
  return usage;
}

std::int64_t estimate_upload_tokens(Operation op, const json::object& form) {
  if (op != Operation::kImageEdits) return 100;
  std::int64_t images = 1;
  if (const auto* n = form.if_contains("n"); n && n->is_string())
    if (auto count = integer(*n); count && *count > 0) images = *count;
  return estimate_tokens(common::code_points(common::str(form, "prompt"))) + 500 * images;
}

}  // namespace anygpt::formats::openai
