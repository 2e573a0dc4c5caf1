#include "ws/frames.hpp"

namespace anygpt::ws {

Scan scan_frame(std::string_view bytes, FrameHeader& h) {
  if (bytes.size() < 2) return Scan::kNeedMore;
  const auto b0 = static_cast<std::uint8_t>(bytes[0]);
  const auto b1 = static_cast<std::uint8_t>(bytes[1]);
  if (b0 & 0x70) return Scan::kMalformed;  // RSV bits: no extension is negotiated
  h.fin = b0 & 0x80;
  h.opcode = b0 & 0x0f;
  if ((h.opcode > 2 && h.opcode < 8) || h.opcode > 10) return Scan::kMalformed;
  h.masked = b1 & 0x80;
  std::uint64_t len = b1 & 0x7f;
  std::size_t pos = 2;
  if (len == 126) {
    if (bytes.size() < 4) return Scan::kNeedMore;
    len = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes[2])) << 8) | static_cast<std::uint8_t>(bytes[3]);
    pos = 4;
  } else if (len == 127) {
    if (bytes.size() < 10) return Scan::kNeedMore;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<std::uint8_t>(bytes[2 + i]);
    if (len >> 63) return Scan::kMalformed;
    pos = 10;
  }
  if (h.control() && (len > 125 || !h.fin)) return Scan::kMalformed;
  if (h.masked) {
    if (bytes.size() < pos + 4) return Scan::kNeedMore;
    for (int i = 0; i < 4; ++i) h.mask[i] = static_cast<std::uint8_t>(bytes[pos + i]);
    pos += 4;
  }
  h.header_size = pos;
  h.length = len;
  return Scan::kFrame;
}

void append_unmasked(std::string& out, std::string_view payload, const FrameHeader& h, std::uint64_t offset) {
  if (!h.masked) {
    out.append(payload);
    return;
  }
  const std::size_t start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out[start + i] = static_cast<char>(static_cast<std::uint8_t>(out[start + i]) ^ h.mask[(offset + i) & 3]);
}

namespace {
std::string server_frame(std::uint8_t opcode, std::string_view payload) {
  std::string f;
  f.reserve(payload.size() + 10);
  f += static_cast<char>(0x80 | opcode);
  const auto n = payload.size();
  if (n < 126) {
    f += static_cast<char>(n);
  } else if (n <= 0xffff) {
    f += static_cast<char>(126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xff);
  } else {
    f += static_cast<char>(127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xff);
  }
  f.append(payload);
  return f;
}
}  // namespace

std::string server_text_frame(std::string_view payload) {
  return server_frame(0x1, payload);
}

std::string server_close_frame(std::uint16_t code) {
  const char body[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  return server_frame(0x8, std::string_view(body, 2));
}

}  // namespace anygpt::ws
