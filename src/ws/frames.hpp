// ws/frames: RFC 6455 frame headers scanned in a byte stream, for relays that pass frames on
// unchanged and only look into some. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace anygpt::ws {

struct FrameHeader {
  bool fin = false;
  std::uint8_t opcode = 0;  // 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong
  bool masked = false;
  std::array<std::uint8_t, 4> mask{};
  std::size_t header_size = 0;
  std::uint64_t length = 0;  // payload bytes
  bool control() const { return opcode & 0x8; }
};

enum class Scan { kFrame, kNeedMore, kMalformed };

// The header of the frame at the start of `bytes` (kNeedMore while it is incomplete; the payload
// may still be incomplete after kFrame). kMalformed: reserved bits or opcodes, a control frame
// longer than 125 bytes or fragmented, a 64-bit length with the top bit set.
Scan scan_frame(std::string_view bytes, FrameHeader& h);

// Appends `payload` (bytes starting at payload offset `offset` of a frame with header `h`)
// unmasked to `out`.
void append_unmasked(std::string& out, std::string_view payload, const FrameHeader& h, std::uint64_t offset = 0);

// A server's (unmasked) text frame, and close frame with `code`.
std::string server_text_frame(std::string_view payload);
std::string server_close_frame(std::uint16_t code);

}  // namespace anygpt::ws
