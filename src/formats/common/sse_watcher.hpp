// formats/common/sse_watcher: the base of StreamWatchers for SSE protocols: splits the bytes into
// events and hands each whole event to the protocol's on_event.
#pragma once

#include <optional>
#include <string_view>

#include "formats/openai/openai.hpp"
#include "formats/provider.hpp"

namespace anygpt::formats::common {

class SseWatcher : public StreamWatcher {
 public:
  std::optional<core::Error> feed(std::string_view bytes) final {
    splitter_.append(bytes);
    while (auto event = splitter_.next_event())
      if (auto e = on_event(*event)) return e;
    return std::nullopt;
  }

 protected:
  // One complete event (without its blank line); an error ends the stream.
  virtual std::optional<core::Error> on_event(std::string_view event) = 0;

 private:
  openai::SseSplitter splitter_;
};

}  // namespace anygpt::formats::common
