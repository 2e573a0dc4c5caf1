// pipeline/uploads: the multipart/form-data bodies of upload routes (Codec::takes_form). Read from
// the client as they arrive into a Spool (memory, then an unlinked file; file operations run on
// the gateway's file-I/O pool, never on the event loop), scanned for their fields on the way, and
// sent to each attempt from the spool with the model field renamed. Never held in memory whole.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "formats/common/multipart.hpp"
#include "pipeline/gateway.hpp"
#include "store/spool.hpp"
#include "upstream/client.hpp"

namespace anygpt::pipeline {

// One request's upload. Owned by dispatch(); outlives its attempts.
struct Upload {
  explicit Upload(std::string spool_dir) : spool(std::move(spool_dir)) {}
  store::Spool spool;
  formats::common::Form form;
  std::string content_type;  // the client's, boundary included (it goes upstream as it is)
  std::string boundary;
};

// The directory uploads spool to: UPLOAD_SPOOL_DIR, else $TMPDIR, else /tmp.
std::string spool_dir(const config::Config& config);

// Reads the exchange's body into `upload` and scans it. The form's fields as JSON
// (formats::common::form_fields), or the error to answer: 400 for a body that is not a form,
// 413 past the body limit, 507 when the spool cannot be written.
boost::asio::awaitable<core::Result<boost::json::value>> read_upload(Gateway& gw, server::Exchange& ex, Upload& upload);

// The body one candidate is sent: the upload with its model field's value replaced by `model`
// (or, when the form had no model field, one added before its first part).
class UploadBody final : public upstream::BodySource {
 public:
  UploadBody(Gateway& gw, const Upload& upload, std::string_view model);
  std::uint64_t size() const override { return upload_.spool.size() - erase_ + insert_.size(); }
  boost::asio::awaitable<core::Result<std::string_view>> read(std::uint64_t offset) override;

 private:
  // Spool bytes from `offset` up to `end`.
  boost::asio::awaitable<core::Result<std::string_view>> spool_bytes(std::uint64_t offset, std::uint64_t end);

  Gateway& gw_;
  const Upload& upload_;
  std::uint64_t at_ = 0;     // where the replacement goes
  std::uint64_t erase_ = 0;  // spool bytes it replaces
  std::string insert_;
  std::string buffer_;  // file reads
};

}  // namespace anygpt::pipeline
