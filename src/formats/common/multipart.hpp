// formats/common/multipart: an incremental scanner of multipart/form-data bodies (RFC 7578).
// It sees the body in pieces as they arrive and keeps only what routing needs: each part's name,
// filename, content type, position and size, and the content of text parts (small fields such
// as `model` or `prompt`). File contents are counted, never kept. Pure: no I/O.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace anygpt::formats::common {

struct FormPart {
  std::string name;
  std::string filename;      // set for file parts (the header had a filename)
  std::string content_type;  // as the part declared it ("" when it did not)
  bool is_file = false;
  std::uint64_t offset = 0;  // where the part's content begins in the body
  std::uint64_t size = 0;    // its length in bytes
  std::string value;         // a text part's content (file parts: empty)
};

struct Form {
  std::vector<FormPart> parts;
  std::uint64_t first_delimiter = 0;  // offset of the first "--boundary" line
  std::uint64_t body_size = 0;

  // The first text part named `name`, or nullptr.
  const FormPart* text(std::string_view name) const;
};

// The form as the JSON object upload codecs check (Codec::takes_form): text parts as strings,
// file parts as {"filename", "content_type", "bytes"}, a name sent more than once as an array.
boost::json::object form_fields(const Form& form);

// The boundary of a "multipart/form-data; boundary=..." content type (quotes removed); "" when the
// type is not multipart/form-data or has no valid boundary.
std::string form_boundary(std::string_view content_type);

class MultipartScanner {
 public:
  static constexpr std::size_t kMaxTextBytes = 64 * 1024;    // per text part
  static constexpr std::size_t kMaxHeaderBytes = 16 * 1024;  // per part's headers
  static constexpr std::size_t kMaxParts = 256;

  // REQUIRES: `boundary` non-empty (form_boundary's result).
  explicit MultipartScanner(std::string_view boundary);

  // The next piece of the body. kInvalidRequest (param "body") when the body is not a valid form
  // or exceeds a limit above; the scanner is then finished.
  std::optional<core::Error> feed(std::string_view piece);
  // After the last piece: the form, or kInvalidRequest when the body ended before its closing
  // delimiter.
  core::Result<Form> finish();

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kContent, kEpilogue, kFailed };
  std::optional<core::Error> fail(std::string message);
  bool scan();  // processes window_; false when it needs more bytes (or failed)
  std::optional<core::Error> parse_headers(std::string_view headers);
  void add_content(std::string_view bytes);

  std::string delimiter_;  // "\r\n--" + boundary
  State state_ = State::kPreamble;
  std::string window_;          // bytes received but not yet consumed
  std::uint64_t consumed_ = 0;  // body offset of window_[0]
  Form form_;
  std::optional<core::Error> error_;
};

}  // namespace anygpt::formats::common
