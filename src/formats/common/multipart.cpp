#include "formats/common/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace anygpt::formats::common {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "a; b=c; d=\"e;f\"" at the semicolons outside quotes; calls `each(name, value)` per
// parameter after the first item (the value unquoted; backslash escapes honoured).
template <class F>
void for_each_param(std::string_view header, F each) {
  std::size_t i = header.find(';');
  while (i != std::string_view::npos && i < header.size()) {
    ++i;
    auto eq = header.find('=', i);
    auto semi = header.find(';', i);
    if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
      i = semi;
      continue;
    }
    auto name = trim(header.substr(i, eq - i));
    std::size_t j = eq + 1;
    while (j < header.size() && (header[j] == ' ' || header[j] == '\t')) ++j;
    std::string value;
    if (j < header.size() && header[j] == '"') {
      for (++j; j < header.size() && header[j] != '"'; ++j) {
        if (header[j] == '\\' && j + 1 < header.size()) ++j;
        value += header[j];
      }
      i = header.find(';', j);
    } else {
      semi = header.find(';', j);
      value = std::string(trim(header.substr(j, semi == std::string_view::npos ? std::string_view::npos : semi - j)));
      i = semi;
    }
    each(name, std::move(value));
  }
}

}  // namespace

const FormPart* Form::text(std::string_view name) const {
  for (const auto& p : parts)
    if (!p.is_file && p.name == name) return &p;
  return nullptr;
}

boost::json::object form_fields(const Form& form) {
  boost::json::object out;
  for (const auto& p : form.parts) {
    boost::json::value v;
    if (p.is_file)
      v = boost::json::object{{"filename", p.filename}, {"content_type", p.content_type}, {"bytes", p.size}};
    else
      v = p.value;
    auto it = out.find(p.name);
    if (it == out.end()) {
      out.emplace(p.name, std::move(v));
    } else {
      if (!it->value().is_array()) it->value() = boost::json::array{std::move(it->value())};
      it->value().as_array().push_back(std::move(v));
    }
  }
  return out;
}

std::string form_boundary(std::string_view content_type) {
  auto type = trim(content_type.substr(0, content_type.find(';')));
  if (!iequals(type, "multipart/form-data")) return {};
  std::string boundary;
  for_each_param(content_type, [&](std::string_view name, std::string value) {
    if (iequals(name, "boundary") && boundary.empty()) boundary = std::move(value);
  });
  if (boundary.empty() || boundary.size() > 70) return {};
  return boundary;
}

MultipartScanner::MultipartScanner(std::string_view boundary) : delimiter_("\r\n--") {
  delimiter_.append(boundary);
}

std::optional<core::Error> MultipartScanner::fail(std::string message) {
  state_ = State::kFailed;
  window_.clear();
  error_ = core::make_error(core::ErrorKind::kInvalidRequest, "Malformed multipart/form-data body: " + message, "body",
                            "invalid_multipart");
  return error_;
}

std::optional<core::Error> MultipartScanner::feed(std::string_view piece) {
  if (state_ == State::kFailed) return error_;
  if (state_ == State::kEpilogue) {  // after the closing delimiter: ignored
    consumed_ += piece.size();
    return std::nullopt;
  }
  window_.append(piece.data(), piece.size());
  while (scan()) {
  }
  if (state_ == State::kFailed) return error_;
  return std::nullopt;
}

void MultipartScanner::add_content(std::string_view bytes) {
  auto& part = form_.parts.back();
  part.size += bytes.size();
  if (part.is_file) return;
  if (part.value.size() + bytes.size() > kMaxTextBytes) {
    fail("the field '" + part.name + "' is longer than " + std::to_string(kMaxTextBytes) + " bytes");
    return;
  }
  part.value.append(bytes.data(), bytes.size());
}

std::optional<core::Error> MultipartScanner::parse_headers(std::string_view headers) {
  if (form_.parts.size() == kMaxParts) return fail("more than " + std::to_string(kMaxParts) + " parts");
  FormPart part;
  bool disposition = false;
  while (!headers.empty()) {
    auto eol = headers.find("\r\n");
    auto line = headers.substr(0, eol);
    headers.remove_prefix(eol == std::string_view::npos ? headers.size() : eol + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail("a part header without ':'");
    auto name = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (iequals(name, "content-disposition")) {
      if (!iequals(trim(value.substr(0, value.find(';'))), "form-data"))
        return fail("a part whose Content-Disposition is not form-data");
      disposition = true;
      for_each_param(value, [&](std::string_view param, std::string v) {
        if (iequals(param, "name")) {
          part.name = std::move(v);
        } else if (iequals(param, "filename") || iequals(param, "filename*")) {
          part.is_file = true;
          if (part.filename.empty() || iequals(param, "filename")) part.filename = std::move(v);
        }
      });
    } else if (iequals(name, "content-type")) {
      part.content_type = std::string(value);
    }
  }
  if (!disposition || part.name.empty()) return fail("a part without a Content-Disposition name");
  form_.parts.push_back(std::move(part));
  return std::nullopt;
}

bool MultipartScanner::scan() {
  auto consume = [this](std::size_t n) {
    window_.erase(0, n);
    consumed_ += n;
  };
  switch (state_) {
    case State::kPreamble: {
      std::string_view dash(delimiter_.data() + 2, delimiter_.size() - 2);  // "--boundary"
      if (consumed_ == 0 && window_.size() < dash.size() && dash.substr(0, window_.size()) == window_) return false;
      if (consumed_ == 0 && window_.compare(0, dash.size(), dash) == 0) {
        form_.first_delimiter = 0;
        consume(dash.size());
        state_ = State::kAfterDelimiter;
        return true;
      }
      auto at = window_.find(delimiter_);
      if (at == std::string::npos) {
        if (window_.size() >= delimiter_.size()) consume(window_.size() - delimiter_.size() + 1);
        return false;
      }
      form_.first_delimiter = consumed_ + at + 2;
      consume(at + delimiter_.size());
      state_ = State::kAfterDelimiter;
      return true;
    }
    case State::kAfterDelimiter: {
      std::size_t i = 0;
      while (i < window_.size() && (window_[i] == ' ' || window_[i] == '\t')) ++i;
      if (window_.size() < i + 2) {
        if (i > 256) fail("junk after a boundary");
        return false;
      }
      if (window_.compare(i, 2, "--") == 0) {
        consume(window_.size());  // the epilogue is ignored
        state_ = State::kEpilogue;
        return false;
      }
      if (window_.compare(i, 2, "\r\n") != 0) {
        fail("junk after a boundary");
        return false;
      }
      consume(i + 2);
      state_ = State::kHeaders;
      return true;
    }
    case State::kHeaders: {
      std::size_t end = 0;
      std::size_t skip = 0;
      if (window_.compare(0, 2, "\r\n") == 0) {
        skip = 2;  // a part without headers
      } else if (auto at = window_.find("\r\n\r\n"); at != std::string::npos) {
        end = at;
        skip = at + 4;
      } else {
        if (window_.size() > kMaxHeaderBytes) fail("part headers longer than " + std::to_string(kMaxHeaderBytes));
        return false;
      }
      if (parse_headers(std::string_view(window_).substr(0, end))) return false;
      form_.parts.back().offset = consumed_ + skip;
      consume(skip);
      state_ = State::kContent;
      return true;
    }
    case State::kContent: {
      auto at = window_.find(delimiter_);
      if (at == std::string::npos) {
        if (window_.size() < delimiter_.size()) return false;
        const std::size_t safe = window_.size() - delimiter_.size() + 1;  // cannot hold a whole delimiter
        add_content(std::string_view(window_).substr(0, safe));
        if (state_ != State::kFailed) consume(safe);
        return false;
      }
      add_content(std::string_view(window_).substr(0, at));
      if (state_ == State::kFailed) return false;
      consume(at + delimiter_.size());
      state_ = State::kAfterDelimiter;
      return true;
    }
    case State::kEpilogue:
    case State::kFailed: return false;
  }
  return false;
}

core::Result<Form> MultipartScanner::finish() {
  if (state_ == State::kFailed) return *error_;
  if (state_ != State::kEpilogue) {
    fail(form_.parts.empty() && state_ == State::kPreamble ? "no boundary line found"
                                                           : "the body ended before its closing boundary");
    return *error_;
  }
  form_.body_size = consumed_ + window_.size();
  return std::move(form_);
}

}  // namespace anygpt::formats::common
