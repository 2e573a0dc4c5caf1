// pipeline/stream_relay: relays an upstream OpenAI SSE stream to the client as it arrives,
// either byte for byte (OpenAI-shaped clients) or through the client protocol's StreamEncoder,
// one event at a time. Internal to the pipeline.
#pragma once

#include <boost/json/object.hpp>
#include <optional>

#include "core/watchdog.hpp"
#include "formats/codec.hpp"
#include "formats/provider.hpp"
#include "routing/health.hpp"
#include "server/exchange.hpp"
#include "upstream/client.hpp"

namespace anygpt::pipeline {

// How a relayed stream ended.
struct StreamEnd {
  // kNotStarted: the upstream failed (or was cut off by the first-token deadline) before its
  // first content event; nothing reached the client, so the caller may still fail over.
  // kCut (only when RelayTarget::may_cut): the upstream broke after text reached the client, in a
  // way a prefill can continue (no tool call, no finish, text that is not only whitespace);
  // nothing was written for the break, the client's stream is left open mid-answer.
  // kLost: the other lane of a hedge race committed first; nothing was sent.
  enum class Kind { kComplete, kBroken, kClientGone, kNotStarted, kCut, kLost } kind = Kind::kComplete;
  core::Usage usage;                // as reported by the provider (present=false when not)
  std::size_t delivered_chars = 0;  // text the client received, for billing without usage
  std::string text;                 // the delta content the client received (not for a watched stream)
  std::optional<routing::Clock::time_point> first_event;
  core::Error error;  // kBroken, kCut, kNotStarted: what broke it
};

struct Seam;
class HedgeGate;

// Where the events come from and go. decoder == nullptr: the upstream speaks OpenAI SSE;
// otherwise its own protocol, which the decoder turns into canonical chunks (its end signal
// required: a body that stops before it is a broken stream). encoder == nullptr: OpenAI SSE to
// the client as it is (the usage-only chunk only when include_usage; a missing [DONE] added);
// otherwise every chunk goes to the encoder, and its finish() or fail() ends the stream.
// watcher (instead of a decoder): a native upstream of the client's own protocol: its bytes go
// to the client as they are, the watcher reads usage, errors and the end signal from them, and
// the encoder only renders a failure. REQUIRES: an encoder when there is a decoder or a watcher.
// The client's response is committed (status 200, `content_type`, `headers`, then what was held
// back) only at the first content event: text, a tool call or a finish, not a role-only chunk
// (or at a clean end without any). `first_token` (optional) is disarmed then.
// `seam` (optional): this stream continues one that was cut (pipeline/continuation): the client
// already has the head and seam->text, so events before the first content (the role chunk) are
// dropped, the first content loses the seam's overlap, and the usage the client is shown (the
// usage chunk, the encoder's finish) adds seam->billed completion tokens. REQUIRES: no watcher.
struct RelayTarget {
  bool include_usage = false;
  bool add_done = true;  // a relayed OpenAI chat stream ends with [DONE] (a transcription's ends as it does)
  formats::StreamEncoder* encoder = nullptr;
  formats::StreamDecoder* decoder = nullptr;
  formats::StreamWatcher* watcher = nullptr;
  routing::Clock::time_point started;  // when the request arrived (encoders' durations)
  std::string_view content_type;
  const server::Headers* headers = nullptr;
  core::Watch* first_token = nullptr;
  bool may_cut = false;  // a break after content may end as kCut (the caller continues the answer)
  const Seam* seam = nullptr;
  HedgeGate* gate = nullptr;  // racing a hedge: the commit claims the gate first (kLost when the other lane has)
  int lane = 0;
};

// Malformed chunks are dropped (logged); a cut or stalled upstream, or an in-band error event
// when translating, ends with the protocol's error event (no [DONE] / clean end) once the
// response is committed, and as kNotStarted (nothing sent) before.
boost::asio::awaitable<StreamEnd> relay_events(server::Exchange& ex, upstream::Stream& stream, RelayTarget target,
                                               std::string_view provider_id);

// A whole chat.completion as the one chunk a stream encoder understands (message -> delta), for
// providers that answer a stream request with a plain body.
boost::json::object completion_as_chunk(const boost::json::object& completion);

}  // namespace anygpt::pipeline
