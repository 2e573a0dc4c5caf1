#include "pipeline/uploads.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <utility>

namespace anygpt::pipeline {
namespace asio = boost::asio;
using core::ErrorKind;
using core::make_error;

namespace {
constexpr std::size_t kReadPiece = 64 * 1024;

// Runs the spool's blocking file work on the file-I/O pool; the caller resumes on its own
// executor. (Plain functions building the awaitable: GCC 12 mishandles lambdas created inside
// co_await expressions.) The results are default-constructible, as co_spawn requires.
asio::awaitable<std::optional<core::Error>> append_off_loop(Gateway& gw, store::Spool& spool, std::string_view bytes) {
  return asio::co_spawn(
      gw.file_io, [&spool, bytes]() -> asio::awaitable<std::optional<core::Error>> { co_return spool.append(bytes); },
      asio::use_awaitable);
}

using ReadResult = std::pair<std::size_t, std::optional<core::Error>>;
asio::awaitable<ReadResult> read_off_loop(Gateway& gw, const store::Spool& spool, std::uint64_t offset, char* out,
                                          std::size_t n) {
  return asio::co_spawn(
      gw.file_io,
      [&spool, offset, out, n]() -> asio::awaitable<ReadResult> {
        auto r = spool.read_at(offset, out, n);
        if (!r) co_return ReadResult{0, r.error()};
        co_return ReadResult{*r, std::nullopt};
      },
      asio::use_awaitable);
}
}  // namespace

std::string spool_dir(const config::Config& config) {
  if (!config.upload_spool_dir.empty()) return config.upload_spool_dir;
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? std::string(tmp) : std::string("/tmp");
}

asio::awaitable<core::Result<boost::json::value>> read_upload(Gateway& gw, server::Exchange& ex, Upload& upload) {
  upload.content_type = std::string(ex.header(server::http::field::content_type));
  upload.boundary = formats::common::form_boundary(upload.content_type);
  if (upload.boundary.empty())
    co_return make_error(ErrorKind::kInvalidRequest,
                         "This route takes a multipart/form-data body (Content-Type with a boundary)", "Content-Type",
                         "invalid_content_type");
  auto* reader = ex.body_reader();
  if (!reader) co_return make_error(ErrorKind::kInternal, "upload route without a streamed body");
  formats::common::MultipartScanner scanner(upload.boundary);
  for (;;) {
    auto piece = co_await reader->next();
    if (!piece) co_return piece.error();
    if (piece->empty()) break;
    if (auto bad = scanner.feed(*piece)) co_return *bad;
    std::optional<core::Error> stored;
    if (upload.spool.fits_in_memory(piece->size())) {
      stored = upload.spool.append(*piece);
    } else {
      auto op = append_off_loop(gw, upload.spool, *piece);
      stored = co_await std::move(op);
    }
    if (stored) co_return *stored;
  }
  auto form = scanner.finish();
  if (!form) co_return form.error();
  upload.form = std::move(*form);
  co_return boost::json::value(formats::common::form_fields(upload.form));
}

UploadBody::UploadBody(Gateway& gw, const Upload& upload, std::string_view model) : gw_(gw), upload_(upload) {
  if (const auto* field = upload.form.text("model")) {
    at_ = field->offset;
    erase_ = field->size;
    insert_ = model;
    return;
  }
  at_ = upload.form.first_delimiter;
  insert_.append("--").append(upload.boundary);
  insert_.append("\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n").append(model).append("\r\n");
}

asio::awaitable<core::Result<std::string_view>> UploadBody::read(std::uint64_t offset) {
  if (offset < at_) co_return co_await spool_bytes(offset, at_);
  if (offset < at_ + insert_.size()) co_return std::string_view(insert_).substr(offset - at_);
  const std::uint64_t from = offset - insert_.size() + erase_;
  co_return co_await spool_bytes(from, upload_.spool.size());
}

asio::awaitable<core::Result<std::string_view>> UploadBody::spool_bytes(std::uint64_t offset, std::uint64_t end) {
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(end - offset, kReadPiece));
  if (!upload_.spool.in_file()) co_return upload_.spool.memory_at(offset).substr(0, n);
  buffer_.resize(kReadPiece);
  auto op = read_off_loop(gw_, upload_.spool, offset, buffer_.data(), n);
  auto [got, error] = co_await std::move(op);
  if (error) co_return std::move(*error);
  co_return std::string_view(buffer_.data(), got);
}

}  // namespace anygpt::pipeline
