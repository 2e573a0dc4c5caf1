// formats/openai/media_common: what the media and upload codecs share (internal to
// formats/openai): field checks and the relaying codec base.
#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "formats/codec.hpp"

namespace anygpt::formats::openai::media {

inline core::Error invalid(std::string message, std::string param) {
  return core::make_error(core::ErrorKind::kInvalidRequest, std::move(message), std::move(param));
}

inline bool non_empty_string(const boost::json::value* v) {
  return v && v->is_string() && !v->get_string().empty();
}

inline bool one_of(const boost::json::value& v, std::initializer_list<std::string_view> values) {
  if (!v.is_string()) return false;
  for (auto x : values)
    if (v.get_string() == x) return true;
  return false;
}

// The canonical form of these requests: the client's bytes, for `op` of `model`.
inline Canonical passthrough(Operation op, std::string model) {
  Canonical c;
  c.op = op;
  c.same_bytes = true;
  c.model = std::move(model);
  return c;
}

// Media answers go back as the host sent them: there is nothing to encode or stream.
class RelayingCodec : public Codec {
 public:
  bool relays_answer() const override { return true; }
  std::string encode(const boost::json::object& answer, const AnswerContext&, const Moment&) const override {
    return boost::json::serialize(answer);
  }
  std::unique_ptr<StreamEncoder> stream(const AnswerContext&) const override { return nullptr; }
};

}  // namespace anygpt::formats::openai::media
