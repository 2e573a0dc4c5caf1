// formats/common/event_scan: one SAX pass over the JSON of a stream event that a same-protocol
// relay reads instead of building a DOM: whether it is one object, how much text it delivers,
// whether it holds a key that makes it worth a full parse, the length of one top-level array
// and whether one top-level object is there. Nothing is allocated for ordinary events. Pure.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace anygpt::formats::common {

struct EventScanSpec {
  std::span<const std::string_view> text_keys;  // any depth: their string values' code points are counted
  std::span<const std::string_view> marks;      // any depth: such a key whose value is not null/false/0 marks the event
  std::span<const std::string_view> top_marks;  // the same, for top-level keys only
  std::string_view counted_array;               // a top-level array member whose elements are counted
                                                // (any other value there marks the event)
  std::string_view reported_object;             // a top-level member whose being an object is reported
  std::string_view captured_key;                // any depth: its string values are appended to the capture
  std::span<const std::string_view> flag_keys;  // any depth: bit i of `flags` when flag_keys[i] holds a value
};

struct EventScan {
  bool object = false;          // the data is exactly one JSON object
  bool marked = false;          // a mark key (or top mark) held a value
  std::size_t text_chars = 0;   // code points of text-key string values
  std::size_t array_items = 0;  // elements of the counted array (its last occurrence)
  bool has_reported = false;    // the reported member is there, as an object
  unsigned flags = 0;           // which flag keys held a value (not null/false/0)
};

// REQUIRES: `data` is the event's whole JSON text. A false `object` comes with the other fields zero.
// `capture` (optional) gets the decoded string values of spec.captured_key appended (also when the
// data turns out not to be an object: the caller then drops what it captured).
EventScan scan_event(std::string_view data, const EventScanSpec& spec, std::string* capture = nullptr);

// scan_event over a byte stream of JSON values (NDJSON lines, split anywhere): each value is
// scanned as its bytes arrive, and `done()` says when one is whole. Values are told apart by
// where they end, not by newlines (as boost::json::stream_parser does).
class EventScanner {
 public:
  // `capture` (optional): as for scan_event, for every value scanned.
  explicit EventScanner(const EventScanSpec& spec, std::string* capture = nullptr);
  ~EventScanner();
  EventScanner(const EventScanner&) = delete;
  EventScanner& operator=(const EventScanner&) = delete;
  // Scans the front of `bytes` up to the end of the current value; returns how many bytes it
  // used, or sets `ec` for text that is not JSON.
  std::size_t write(std::string_view bytes, std::error_code& ec);
  bool done() const;
  // REQUIRES: done(). The scan of the value just completed (object false when it is not an
  // object); the scanner is then ready for the next.
  EventScan take();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The value of an SSE event's "event:" field ("" when it has none).
std::string_view sse_event_name(std::string_view event);

}  // namespace anygpt::formats::common
