#include "formats/openai/stream_inspect.hpp"

#include "formats/openai/openai.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <string>

namespace anygpt::formats::openai {

namespace {
namespace json = boost::json;

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

bool is_text_key(std::string_view k) {
  return k == "content" || k == "arguments" || k == "refusal" || k == "reasoning" || k == "reasoning_content";
}

// SAX handler: validates, spots top-level "usage":{...} and measures delta text.
struct Scan {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  int depth = 0;
  bool top_is_object = false;
  bool text_value = false;  // the value being read belongs to a text key
  bool usage_key = false;   // the last top-level key was "usage"
  std::string key;          // key being assembled across parts (rare: only when split)
  EventInfo* out;

  explicit Scan(EventInfo* o) : out(o) {}

  void begin_value_container() {
    text_value = false;
    usage_key = false;
  }
  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    if (depth == 0) top_is_object = true;
    if (depth == 1 && usage_key) out->has_usage = true;
    begin_value_container();
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    --depth;
    return true;
  }
  bool on_array_begin(json::error_code&) {
    begin_value_container();
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) {
    --depth;
    return true;
  }
  bool on_key_part(std::string_view s, std::size_t, json::error_code&) {
    key.append(s);
    return true;
  }
  bool on_key(std::string_view s, std::size_t, json::error_code&) {
    std::string_view k = s;
    if (!key.empty()) {
      key.append(s);
      k = key;
    }
    text_value = is_text_key(k);
    usage_key = depth == 1 && k == "usage";
    key.clear();
    return true;
  }
  bool on_string_part(std::string_view s, std::size_t, json::error_code&) {
    if (text_value) out->delivered_chars += code_points(s);
    return true;
  }
  bool on_string(std::string_view s, std::size_t, json::error_code&) {
    if (text_value) out->delivered_chars += code_points(s);
    text_value = false;
    usage_key = false;
    return true;
  }
  bool scalar() {
    text_value = false;
    usage_key = false;
    return true;
  }
  bool on_number_part(std::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, std::string_view, json::error_code&) { return scalar(); }
  bool on_uint64(std::uint64_t, std::string_view, json::error_code&) { return scalar(); }
  bool on_double(double, std::string_view, json::error_code&) { return scalar(); }
  bool on_bool(bool, json::error_code&) { return scalar(); }
  bool on_null(json::error_code&) { return scalar(); }
  bool on_comment_part(std::string_view, json::error_code&) { return true; }
  bool on_comment(std::string_view, json::error_code&) { return true; }
};

}  // namespace

EventInfo inspect_event(std::string_view event) {
  EventInfo info;
  std::string_view data;
  std::string joined;
  if (!event_payload(event, data, joined)) return info;
  if (data == "[DONE]") {
    info.kind = EventInfo::Kind::kDone;
    return info;
  }
  json::basic_parser<Scan> parser(json::parse_options{}, &info);
  json::error_code ec;
  auto used = parser.write_some(false, data.data(), data.size(), ec);
  auto rest = data.substr(std::min(used, data.size()));
  if (!ec && rest.find_first_not_of(" \t\r") != std::string_view::npos) ec = json::error::extra_data;
  info.kind =
      !ec && parser.done() && parser.handler().top_is_object ? EventInfo::Kind::kChunk : EventInfo::Kind::kMalformed;
  if (info.kind == EventInfo::Kind::kMalformed) {
    info.has_usage = false;
    info.delivered_chars = 0;
  }
  return info;
}

}  // namespace anygpt::formats::openai
