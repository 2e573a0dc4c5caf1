#include <gtest/gtest.h>

#include <string>

#include "formats/common/multipart.hpp"

namespace anygpt::formats::common {
namespace {

// The body the openai SDK sends for a transcription: file first, then the text fields.
std::string sample_body(const std::string& file) {
  return "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"file\"; filename=\"a b.wav\"\r\n"
         "Content-Type: audio/wav\r\n\r\n" +
         file +
         "\r\n--XyZ\r\n"
         "Content-Disposition: form-data; name=\"model\"\r\n\r\n"
         "whisper-1\r\n--XyZ\r\n"
         "Content-Disposition: form-data; name=\"language\"\r\n\r\n"
         "en\r\n--XyZ--\r\n";
}

core::Result<Form> scan_in_pieces(const std::string& body, std::size_t piece) {
  MultipartScanner scanner("XyZ");
  for (std::size_t at = 0; at < body.size(); at += piece)
    if (auto e = scanner.feed(std::string_view(body).substr(at, piece))) return *e;
  return scanner.finish();
}

TEST(Multipart, BoundaryFromContentType) {
  EXPECT_EQ(form_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(form_boundary("Multipart/Form-Data;boundary=\"a;b c\""), "a;b c");
  EXPECT_EQ(form_boundary("multipart/form-data; charset=utf-8; boundary=--x--"), "--x--");
  EXPECT_EQ(form_boundary("application/json"), "");
  EXPECT_EQ(form_boundary("multipart/form-data"), "");
  EXPECT_EQ(form_boundary("multipart/mixed; boundary=abc"), "");
  EXPECT_EQ(form_boundary("multipart/form-data; boundary=" + std::string(71, 'a')), "");
}

TEST(Multipart, FindsEveryPartWhateverThePieceSize) {
  // A file holding CRLFs, dashes and a prefix of the delimiter, so a split can fall anywhere.
  using namespace std::string_literals;
  const std::string file = "RIFF\r\n--X\r\n--XyQ\0\xff"s + std::string(3000, 'a') + "\r\n-";
  const std::string body = sample_body(file);
  for (std::size_t piece : {1u, 2u, 3u, 7u, 64u, 1000u, 100000u}) {
    auto form = scan_in_pieces(body, piece);
    ASSERT_TRUE(form) << piece << ": " << form.error().message;
    ASSERT_EQ(form->parts.size(), 3u) << piece;
    const auto& f = form->parts[0];
    EXPECT_TRUE(f.is_file);
    EXPECT_EQ(f.name, "file");
    EXPECT_EQ(f.filename, "a b.wav");
    EXPECT_EQ(f.content_type, "audio/wav");
    EXPECT_EQ(f.size, file.size());
    EXPECT_EQ(body.substr(f.offset, f.size), file);
    EXPECT_TRUE(f.value.empty());  // file contents are never kept
    const auto* model = form->text("model");
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(model->value, "whisper-1");
    EXPECT_EQ(body.substr(model->offset, model->size), "whisper-1");
    EXPECT_EQ(form->text("language")->value, "en");
    EXPECT_EQ(form->first_delimiter, 0u);
    EXPECT_EQ(form->body_size, body.size());
    auto fields = form_fields(*form);
    EXPECT_EQ(fields["model"], "whisper-1");
    EXPECT_EQ(fields["file"].as_object()["filename"], "a b.wav");
  }
}

TEST(Multipart, PreambleAndEmptyFields) {
  const std::string body =
      "ignored preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n\r\n--XyZ--";
  auto form = scan_in_pieces(body, 5);
  ASSERT_TRUE(form) << form.error().message;
  EXPECT_EQ(form->first_delimiter, 18u);
  ASSERT_EQ(form->parts.size(), 1u);
  EXPECT_EQ(form->parts[0].value, "");
  EXPECT_EQ(form->parts[0].size, 0u);
}

TEST(Multipart, RepeatedFileFields) {
  const std::string body =
      "--XyZ\r\ncontent-disposition: form-data; name=\"image[]\"; filename=\"a.png\"\r\n\r\nAAAA\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"image[]\"; filename=\"b.png\"\r\n\r\nBB\r\n--XyZ--\r\n";
  auto form = scan_in_pieces(body, 4);
  ASSERT_TRUE(form) << form.error().message;
  ASSERT_EQ(form->parts.size(), 2u);
  EXPECT_EQ(form->parts[0].size, 4u);
  EXPECT_EQ(form->parts[1].filename, "b.png");
  EXPECT_EQ(form->parts[1].size, 2u);
  auto fields = form_fields(*form);
  ASSERT_TRUE(fields["image[]"].is_array());
  EXPECT_EQ(fields["image[]"].as_array().size(), 2u);
  EXPECT_EQ(fields["image[]"].as_array()[1].as_object()["filename"], "b.png");
  EXPECT_EQ(fields["image[]"].as_array()[0].as_object()["bytes"].to_number<int>(), 4);
}

TEST(Multipart, RefusesBrokenBodies) {
  // No closing delimiter.
  auto cut = scan_in_pieces(sample_body("x").substr(0, 60), 8);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().param, "body");
  EXPECT_NE(cut.error().message.find("ended before"), std::string::npos);
  // No boundary at all.
  EXPECT_FALSE(scan_in_pieces("just text", 3));
  // A part without a name.
  EXPECT_FALSE(scan_in_pieces("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", 3));
  // Not form-data.
  EXPECT_FALSE(scan_in_pieces("--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--", 3));
  // Junk after a boundary.
  EXPECT_FALSE(scan_in_pieces("--XyZjunk\r\n", 3));
  // A text field over the limit.
  std::string big = "--XyZ\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n" +
                    std::string(MultipartScanner::kMaxTextBytes + 1, 'p') + "\r\n--XyZ--";
  auto too_big = scan_in_pieces(big, 4096);
  ASSERT_FALSE(too_big);
  EXPECT_NE(too_big.error().message.find("'prompt'"), std::string::npos);
  // Endless part headers.
  EXPECT_FALSE(scan_in_pieces("--XyZ\r\nX: " + std::string(MultipartScanner::kMaxHeaderBytes + 10, 'h'), 1024));
}

}  // namespace
}  // namespace anygpt::formats::common
