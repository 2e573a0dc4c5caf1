#include "formats/common/event_scan.hpp"

#include "formats/common/chunks.hpp"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <string>

namespace anygpt::formats::common {

namespace {
namespace json = boost::json;

bool listed(std::span<const std::string_view> keys, std::string_view k) {
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

// SAX handler. A key's value is "pending" until its first event: a scalar or string settles
// it, a container opens it (marks are set by any non-null, non-false value).
struct Scan {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  const EventScanSpec* spec;
  EventScan* out;
  int depth = 0;
  bool top_is_object = false;
  bool text_value = false;      // the pending value belongs to a text key
  bool mark_value = false;      // the pending value belongs to a mark key
  bool array_value = false;     // the pending value is the counted array
  bool reported_value = false;  // the pending value is the reported member
  bool captured_value = false;  // the pending value belongs to the captured key
  unsigned flag_value = 0;      // the pending value belongs to these flag keys
  std::string* capture = nullptr;
  int counting_depth = 0;  // > 0: inside the counted array, whose elements sit at this depth
  std::string key;         // a key split across parts (rare)

  Scan(const EventScanSpec* s, EventScan* o) : spec(s), out(o) {}

  // Every value starts here: counts the counted array's elements and settles pending marks (a
  // counted member that is not an array marks the event too).
  void value(bool marks, bool array = false) {
    if (counting_depth > 0 && depth == counting_depth) ++out->array_items;
    if ((mark_value && marks) || (array_value && !array)) out->marked = true;
    if (marks) out->flags |= flag_value;
    mark_value = false;
    text_value = false;
    reported_value = false;
    captured_value = false;
    flag_value = 0;
  }
  bool open(bool array) {
    if (depth == 0) top_is_object = !array;
    if (reported_value && !array) out->has_reported = true;
    value(true, array);
    if (array && array_value) {
      counting_depth = depth + 1;
      out->array_items = 0;
    }
    array_value = false;
    ++depth;
    return true;
  }
  bool close() {
    --depth;
    if (counting_depth > 0 && depth < counting_depth) counting_depth = 0;
    return true;
  }
  bool scalar(bool marks) {
    value(marks);
    array_value = false;
    return true;
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return open(false); }
  bool on_object_end(std::size_t, json::error_code&) { return close(); }
  bool on_array_begin(json::error_code&) { return open(true); }
  bool on_array_end(std::size_t, json::error_code&) { return close(); }
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
    text_value = listed(spec->text_keys, k);
    mark_value = listed(spec->marks, k) || (depth == 1 && listed(spec->top_marks, k));
    array_value = depth == 1 && !spec->counted_array.empty() && k == spec->counted_array;
    reported_value = depth == 1 && !spec->reported_object.empty() && k == spec->reported_object;
    captured_value = capture && !spec->captured_key.empty() && k == spec->captured_key;
    flag_value = 0;
    for (std::size_t i = 0; i < spec->flag_keys.size(); ++i)
      if (spec->flag_keys[i] == k) flag_value |= 1u << i;
    key.clear();
    return true;
  }
  bool on_string_part(std::string_view s, std::size_t, json::error_code&) {
    count(s);
    return true;
  }
  bool on_string(std::string_view s, std::size_t, json::error_code&) {
    count(s);
    return scalar(true);
  }
  void count(std::string_view s) {
    if (text_value) out->text_chars += code_points(s);
    if (captured_value) capture->append(s);
  }
  bool on_number_part(std::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t n, std::string_view, json::error_code&) { return scalar(n != 0); }
  bool on_uint64(std::uint64_t n, std::string_view, json::error_code&) { return scalar(n != 0); }
  bool on_double(double d, std::string_view, json::error_code&) { return scalar(d != 0); }
  bool on_bool(bool b, json::error_code&) { return scalar(b); }
  bool on_null(json::error_code&) { return scalar(false); }
  bool on_comment_part(std::string_view, json::error_code&) { return true; }
  bool on_comment(std::string_view, json::error_code&) { return true; }
};

json::parse_options scan_options() {
  json::parse_options options;
  options.max_depth = 64;  // tool-call arguments may nest deeper than the default 32
  return options;
}

}  // namespace

struct EventScanner::Impl {
  Impl(const EventScanSpec& spec, std::string* capture) : parser(scan_options(), &spec, &result) {
    parser.handler().capture = capture;
  }
  EventScan result;
  json::basic_parser<Scan> parser;
};

EventScanner::EventScanner(const EventScanSpec& spec, std::string* capture)
    : impl_(std::make_unique<Impl>(spec, capture)) {}
EventScanner::~EventScanner() = default;

std::size_t EventScanner::write(std::string_view bytes, std::error_code& ec) {
  json::error_code jec;
  auto used = impl_->parser.write_some(true, bytes.data(), bytes.size(), jec);
  ec = jec;
  return std::min(used, bytes.size());
}

bool EventScanner::done() const {
  return impl_->parser.done();
}

EventScan EventScanner::take() {
  EventScan scan = impl_->parser.handler().top_is_object ? impl_->result : EventScan{};
  scan.object = impl_->parser.handler().top_is_object;
  impl_->result = EventScan{};
  auto& h = impl_->parser.handler();
  auto* capture = h.capture;
  h = Scan(h.spec, h.out);
  h.capture = capture;
  impl_->parser.reset();
  return scan;
}

EventScan scan_event(std::string_view data, const EventScanSpec& spec, std::string* capture) {
  EventScan result;
  json::basic_parser<Scan> parser(scan_options(), &spec, &result);
  parser.handler().capture = capture;
  json::error_code ec;
  auto used = parser.write_some(false, data.data(), data.size(), ec);
  auto rest = data.substr(std::min(used, data.size()));
  if (!ec && rest.find_first_not_of(" \t\r\n") != std::string_view::npos) ec = json::error::extra_data;
  if (ec || !parser.done() || !parser.handler().top_is_object) return EventScan{};
  result.object = true;
  return result;
}

std::string_view sse_event_name(std::string_view event) {
  while (!event.empty()) {
    auto nl = event.find('\n');
    auto line = event.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("event:")) {
      line.remove_prefix(6);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      return line;
    }
    if (nl == std::string_view::npos) break;
    event.remove_prefix(nl + 1);
  }
  return {};
}

}  // namespace anygpt::formats::common
