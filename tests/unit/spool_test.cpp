#include "store/spool.hpp"

#include <gtest/gtest.h>

#include <string>

namespace anygpt::store {
namespace {

std::string read_all(const Spool& spool, std::size_t piece) {
  std::string out;
  std::string buf(piece, '\0');
  for (;;) {
    auto n = spool.read_at(out.size(), buf.data(), buf.size());
    EXPECT_TRUE(n);
    if (!n || *n == 0) return out;
    out.append(buf.data(), *n);
  }
}

TEST(Spool, StaysInMemoryUpToItsLimit) {
  Spool spool(::testing::TempDir(), 16);
  EXPECT_TRUE(spool.fits_in_memory(16));
  EXPECT_FALSE(spool.append("0123456789"));
  EXPECT_FALSE(spool.in_file());
  EXPECT_EQ(spool.memory_at(4), "456789");
  EXPECT_FALSE(spool.fits_in_memory(7));
  EXPECT_EQ(read_all(spool, 3), "0123456789");
}

TEST(Spool, MovesToAnUnlinkedFileAndReadsBackWhatWasWritten) {
  Spool spool(::testing::TempDir(), 16);
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string piece = std::to_string(i) + ",";
    expected += piece;
    ASSERT_FALSE(spool.append(piece));
  }
  EXPECT_TRUE(spool.in_file());
  EXPECT_EQ(spool.size(), expected.size());
  EXPECT_EQ(spool.memory_at(0), "");  // no view once in a file
  EXPECT_EQ(read_all(spool, 7), expected);
  char c = 0;
  auto past = spool.read_at(expected.size(), &c, 1);
  ASSERT_TRUE(past);
  EXPECT_EQ(*past, 0u);
}

TEST(Spool, AnUnusableDirectoryIsInsufficientStorage) {
  Spool spool("/nonexistent/anygpt-spool", 4);
  EXPECT_FALSE(spool.append("abc"));  // still in memory
  auto error = spool.append("defgh");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, core::ErrorKind::kInsufficientStorage);
  EXPECT_NE(error->message.find("/nonexistent/anygpt-spool"), std::string::npos);
  EXPECT_TRUE(spool.append("more"));  // unusable from then on
}

}  // namespace
}  // namespace anygpt::store
