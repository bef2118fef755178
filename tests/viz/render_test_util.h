// Helpers for the rendering tests: a scratch folder per test and small XML and
// HTML well-formedness checks for SVG and report output.
//
// Set CONVSCOPE_VIZ_OUTPUT=<folder> to keep every picture the tests write
// (one subfolder per test) and look at them.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace cs::testing {

// A fresh folder named after the running test; removed afterwards unless
// CONVSCOPE_VIZ_OUTPUT names a folder to keep the outputs in.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string name = std::string(info->test_suite_name()) + "." + info->name();
    const char* keep = std::getenv("CONVSCOPE_VIZ_OUTPUT");
    keep_ = keep && *keep;
    path_ = keep_ ? std::filesystem::path(keep) / name
                  : std::filesystem::path(::testing::TempDir()) / ("convscope-viz-" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!keep_) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

inline size_t count_substr(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

// Checks what an XML parser would reject in our output: unbalanced or
// mismatched tags, unquoted attributes, '<' or a bare '&' in text or
// attribute values, more than one root element. (Not a full XML parser.)
inline ::testing::AssertionResult well_formed_xml(const std::string& xml) {
  std::vector<std::string> stack;
  int roots = 0;
  size_t i = 0;
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure()
           << why << " at offset " << i << ": ..." << xml.substr(i > 40 ? i - 40 : 0, 80) << "...";
  };
  auto valid_entity = [&](size_t amp) {
    const size_t semi = xml.find(';', amp);
    if (semi == std::string::npos || semi - amp > 8 || semi == amp + 1) return false;
    const std::string e = xml.substr(amp + 1, semi - amp - 1);
    if (e == "amp" || e == "lt" || e == "gt" || e == "quot" || e == "apos") return true;
    if (e[0] != '#') return false;
    for (size_t k = 1; k < e.size(); ++k)
      if (!std::isdigit(static_cast<unsigned char>(e[k]))) return false;
    return e.size() > 1;
  };
  while (i < xml.size()) {
    if (xml[i] != '<') {
      if (xml[i] == '&' && !valid_entity(i)) return fail("bare '&' in text");
      if (xml[i] == '>') return fail("unescaped '>' in text");
      if (stack.empty() && !std::isspace(static_cast<unsigned char>(xml[i])))
        return fail("text outside the root element");
      ++i;
      continue;
    }
    if (xml.compare(i, 5, "<?xml") == 0) {
      const size_t end = xml.find("?>", i);
      if (end == std::string::npos) return fail("unterminated prolog");
      i = end + 2;
      continue;
    }
    if (xml.compare(i, 4, "<!--") == 0) {
      const size_t end = xml.find("-->", i);
      if (end == std::string::npos) return fail("unterminated comment");
      i = end + 3;
      continue;
    }
    const bool closing = i + 1 < xml.size() && xml[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < xml.size() && (std::isalnum(static_cast<unsigned char>(xml[j])) || xml[j] == '-' ||
                              xml[j] == ':' || xml[j] == '_'))
      ++j;
    const std::string name = xml.substr(name_start, j - name_start);
    if (name.empty()) return fail("tag without a name");
    if (closing) {
      while (j < xml.size() && std::isspace(static_cast<unsigned char>(xml[j]))) ++j;
      if (j >= xml.size() || xml[j] != '>') return fail("bad closing tag");
      if (stack.empty() || stack.back() != name) return fail("mismatched </" + name + ">");
      stack.pop_back();
      i = j + 1;
      continue;
    }
    // Attributes: name="value" (or 'value').
    bool self_closing = false;
    while (true) {
      while (j < xml.size() && std::isspace(static_cast<unsigned char>(xml[j]))) ++j;
      if (j >= xml.size()) return fail("unterminated tag <" + name);
      if (xml[j] == '>') break;
      if (xml.compare(j, 2, "/>") == 0) {
        self_closing = true;
        ++j;
        break;
      }
      const size_t a = j;
      while (j < xml.size() && xml[j] != '=' && !std::isspace(static_cast<unsigned char>(xml[j])) &&
             xml[j] != '>')
        ++j;
      if (j == a || j >= xml.size() || xml[j] != '=') return fail("attribute without a value in <" + name);
      ++j;
      if (j >= xml.size() || (xml[j] != '"' && xml[j] != '\'')) return fail("unquoted attribute in <" + name);
      const char q = xml[j];
      const size_t end = xml.find(q, j + 1);
      if (end == std::string::npos) return fail("unterminated attribute in <" + name);
      for (size_t k = j + 1; k < end; ++k) {
        if (xml[k] == '<') return fail("'<' in an attribute of <" + name);
        if (xml[k] == '&' && !valid_entity(k)) return fail("bare '&' in an attribute of <" + name);
      }
      j = end + 1;
    }
    if (stack.empty()) ++roots;
    if (roots > 1) return fail("more than one root element");
    if (!self_closing) stack.push_back(name);
    i = j + 1;
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "unclosed <" << stack.back() << ">";
  if (roots != 1) return ::testing::AssertionFailure() << "no root element";
  return ::testing::AssertionSuccess();
}

// HTML5 as the report writes it, checked as XML: the doctype dropped, the
// <style>/<script> bodies (raw text) emptied, and void elements (<img>, <meta>,
// ...) treated as self-closing; then every other tag must be closed, nested
// properly, with quoted attributes and escaped text (well_formed_xml).
inline ::testing::AssertionResult well_formed_html(const std::string& html) {
  std::string x = html;
  if (x.rfind("<!DOCTYPE html>", 0) == 0) x.erase(0, 15);
  for (const char* raw : {"style", "script"}) {
    const std::string open = std::string("<") + raw, close = std::string("</") + raw + ">";
    for (size_t at = x.find(open); at != std::string::npos; at = x.find(open, at + 1)) {
      const size_t body = x.find('>', at);
      const size_t end = x.find(close, at);
      if (body == std::string::npos || end == std::string::npos)
        return ::testing::AssertionFailure() << "unclosed <" << raw << ">";
      x.erase(body + 1, end - body - 1);
    }
  }
  for (const char* tag : {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                          "track", "wbr"}) {
    const std::string open = std::string("<") + tag;
    for (size_t at = x.find(open); at != std::string::npos; at = x.find(open, at + 1)) {
      const char next = at + open.size() < x.size() ? x[at + open.size()] : '\0';
      if (next != ' ' && next != '>' && next != '/' && next != '\n') continue;  // e.g. <image>, <colgroup>
      // The tag's end outside quoted attribute values.
      char quote = 0;
      size_t k = at + open.size();
      for (; k < x.size(); ++k) {
        if (quote) {
          if (x[k] == quote) quote = 0;
        } else if (x[k] == '"' || x[k] == '\'') {
          quote = x[k];
        } else if (x[k] == '>') {
          break;
        }
      }
      if (k >= x.size()) return ::testing::AssertionFailure() << "unterminated <" << tag << ">";
      if (x[k - 1] != '/') x.insert(x.begin() + static_cast<std::ptrdiff_t>(k), '/');
    }
  }
  return well_formed_xml(x);
}

}  // namespace cs::testing
