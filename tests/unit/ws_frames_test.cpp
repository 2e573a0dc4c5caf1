#include "ws/frames.hpp"

#include <gtest/gtest.h>

namespace anygpt::ws {
namespace {

TEST(WsFrames, ScansHeadersOfEachLength) {
  FrameHeader h;
  EXPECT_EQ(scan_frame("\x81", h), Scan::kNeedMore);
  const std::string small = server_text_frame("hi");
  ASSERT_EQ(scan_frame(small, h), Scan::kFrame);
  EXPECT_TRUE(h.fin);
  EXPECT_EQ(h.opcode, 1);
  EXPECT_FALSE(h.masked);
  EXPECT_EQ(h.header_size, 2u);
  EXPECT_EQ(h.length, 2u);
  const std::string mid = server_text_frame(std::string(300, 'x'));
  ASSERT_EQ(scan_frame(mid, h), Scan::kFrame);
  EXPECT_EQ(h.header_size, 4u);
  EXPECT_EQ(h.length, 300u);
  EXPECT_EQ(scan_frame(std::string_view(mid).substr(0, 3), h), Scan::kNeedMore);
  const std::string big = server_text_frame(std::string(70000, 'y'));
  ASSERT_EQ(scan_frame(big, h), Scan::kFrame);
  EXPECT_EQ(h.header_size, 10u);
  EXPECT_EQ(h.length, 70000u);
}

TEST(WsFrames, UnmasksAClientFrame) {
  // "Hello", masked with 37 fa 21 3d (RFC 6455 5.7).
  const std::string frame("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  FrameHeader h;
  ASSERT_EQ(scan_frame(frame, h), Scan::kFrame);
  EXPECT_TRUE(h.masked);
  EXPECT_EQ(h.header_size, 6u);
  std::string text;
  append_unmasked(text, std::string_view(frame).substr(6, 2), h, 0);
  append_unmasked(text, std::string_view(frame).substr(8), h, 2);  // in pieces: the mask offset carries on
  EXPECT_EQ(text, "Hello");
}

TEST(WsFrames, RefusesWhatNoPeerMaySend) {
  FrameHeader h;
  EXPECT_EQ(scan_frame(std::string("\xc1\x00", 2), h), Scan::kMalformed) << "RSV1 without an extension";
  EXPECT_EQ(scan_frame(std::string("\x83\x00", 2), h), Scan::kMalformed) << "reserved opcode";
  EXPECT_EQ(scan_frame(std::string("\x09\x00", 2), h), Scan::kMalformed) << "fragmented ping";
  EXPECT_EQ(scan_frame(std::string("\x89\x7e\x00\x80", 4), h), Scan::kMalformed) << "ping over 125 bytes";
}

TEST(WsFrames, CloseFrame) {
  const auto f = server_close_frame(1011);
  EXPECT_EQ(f, std::string("\x88\x02\x03\xf3", 4));
}

}  // namespace
}  // namespace anygpt::ws
