#include "viz/report.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "runtime/error.h"
#include "runtime/file_io.h"

namespace cs::viz {

namespace {

const char* const kStyle = R"css(
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
       color: #222; background: #fafafa; margin: 0; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.7em; margin: 0.2em 0 0.4em; }
h2 { font-size: 1.3em; margin: 1.6em 0 0.4em; padding-bottom: 0.2em; border-bottom: 1px solid #ddd; }
p { max-width: 60em; margin: 0.4em 0 0.8em; }
nav { font-size: 0.92em; margin-bottom: 1em; }
nav a { margin-right: 1em; color: #1f5fa8; text-decoration: none; }
nav a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.92em; background: #fff; }
th, td { border: 1px solid #ddd; padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.config td:first-child { font-weight: 600; white-space: nowrap; }
.figures { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
figure { margin: 0; padding: 10px; background: #fff; border: 1px solid #e2e2e2; border-radius: 4px;
         max-width: 100%; box-sizing: border-box; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figure img[src$=".png"] { image-rendering: pixelated; }
figcaption { font-size: 0.9em; color: #444; margin-top: 6px; max-width: 46em; }
.data { display: block; margin-top: 3px; font-size: 0.92em; }
.data a { color: #1f5fa8; margin-right: 0.8em; }
footer { margin-top: 3em; font-size: 0.85em; color: #888; }
)css";

// Percent-encodes a relative path for an href/src (keeps letters, digits, -._~/).
std::string url_path(const std::string& path) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool has_scheme(const std::string& ref) {
  // "http:", "data:", "mailto:", ...: letters then ':' before any '/'.
  const size_t colon = ref.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  const size_t slash = ref.find('/');
  if (slash != std::string::npos && slash < colon) return false;
  for (size_t i = 0; i < colon; ++i)
    if (!std::isalpha(static_cast<unsigned char>(ref[i])) && ref[i] != '+' && ref[i] != '-' &&
        ref[i] != '.')
      return false;
  return true;
}

void check_local_path(const std::string& path, const std::string& what) {
  CS_CHECK(!path.empty(), "report: a " << what << " has an empty path");
  CS_CHECK(path[0] != '/' && !has_scheme(path),
           "report: " << what << " '" << path
                      << "' must be a path relative to the report's folder (no URLs or "
                         "absolute paths: the report must open offline and move as a folder)");
  for (const auto& part : std::filesystem::path(path))
    CS_CHECK(part != "..", "report: " << what << " '" << path
                                      << "' leaves the report's folder ('..')");
}

std::vector<std::string> paragraphs(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    bool blank = line.find_first_not_of(" \t\r") == std::string::npos;
    if (blank) {
      if (!current.empty()) out.push_back(current);
      current.clear();
    } else {
      current += (current.empty() ? "" : " ") + line;
    }
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

void write_table(std::ostringstream& out, const Table& t, const char* css_class) {
  out << "<table";
  if (css_class) out << " class=\"" << css_class << '"';
  out << ">\n";
  if (!t.header.empty()) {
    out << "<tr>";
    for (const auto& h : t.header) out << "<th>" << html_escape(h) << "</th>";
    out << "</tr>\n";
  }
  for (const auto& row : t.rows) {
    out << "<tr>";
    for (const auto& cell : row)
      out << (looks_numeric(cell) ? "<td class=\"num\">" : "<td>") << html_escape(cell)
          << "</td>";
    out << "</tr>\n";
  }
  out << "</table>\n";
}

std::string decode_entities(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    const std::string name = s.substr(i + 1, semi - i - 1);
    std::string rep;
    if (name == "amp") rep = "&";
    else if (name == "lt") rep = "<";
    else if (name == "gt") rep = ">";
    else if (name == "quot") rep = "\"";
    else if (name == "apos") rep = "'";
    else if (name.size() > 1 && name[0] == '#') {
      const long code = name[1] == 'x' || name[1] == 'X' ? std::strtol(name.c_str() + 2, nullptr, 16)
                                                          : std::strtol(name.c_str() + 1, nullptr, 10);
      if (code > 0 && code < 128) rep = std::string(1, static_cast<char>(code));
    }
    if (rep.empty()) {
      out += s[i];
      continue;
    }
    out += rep;
    i = semi;
  }
  return out;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool is_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

Report::Report(std::string title) : title_(std::move(title)) {}

void Report::add_config(const std::string& key, const std::string& value) {
  config_.emplace_back(key, value);
}

Section& Report::add_section(const std::string& heading, const std::string& text) {
  sections_.push_back(Section{heading, text, {}, {}});
  return sections_.back();
}

std::string Report::html() const {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>" << html_escape(title_) << "</title>\n<style>" << kStyle << "</style>\n"
      << "</head>\n<body>\n<main>\n<h1>" << html_escape(title_) << "</h1>\n";
  if (sections_.size() + (config_.empty() ? 0 : 1) > 1) {
    out << "<nav>";
    if (!config_.empty()) out << "<a href=\"#configuration\">Configuration</a>";
    for (size_t i = 0; i < sections_.size(); ++i)
      out << "<a href=\"#section-" << i + 1 << "\">" << html_escape(sections_[i].heading) << "</a>";
    out << "</nav>\n";
  }
  if (!config_.empty()) {
    out << "<section id=\"configuration\">\n<h2>Configuration</h2>\n";
    Table t;
    for (const auto& [k, v] : config_) t.rows.push_back({k, v});
    write_table(out, t, "config");
    out << "</section>\n";
  }
  for (size_t i = 0; i < sections_.size(); ++i) {
    const Section& s = sections_[i];
    out << "<section id=\"section-" << i + 1 << "\">\n<h2>" << html_escape(s.heading) << "</h2>\n";
    for (const auto& p : paragraphs(s.text)) out << "<p>" << html_escape(p) << "</p>\n";
    for (const Table& t : s.tables) write_table(out, t, nullptr);
    if (!s.figures.empty()) out << "<div class=\"figures\">\n";
    for (const Figure& f : s.figures) {
      check_local_path(f.path, "figure");
      CS_CHECK(f.width >= 0, "report: figure '" << f.path << "' has a negative width");
      const std::string src = html_escape(url_path(f.path));
      out << "<figure>\n<a href=\"" << src << "\"><img src=\"" << src << "\" alt=\""
          << html_escape(f.caption.empty() ? f.path : f.caption) << '"';
      if (f.width > 0) out << " width=\"" << f.width << '"';
      out << " loading=\"lazy\"></a>\n";
      if (!f.caption.empty() || !f.data_files.empty()) {
        out << "<figcaption>" << html_escape(f.caption);
        if (!f.data_files.empty()) {
          out << "<span class=\"data\">Data:";
          for (const auto& d : f.data_files) {
            check_local_path(d, "data file");
            // download="" rather than a bare attribute: the page stays XML-parseable.
            out << " <a href=\"" << html_escape(url_path(d)) << "\" download=\"\">"
                << html_escape(std::filesystem::path(d).filename().string()) << "</a>";
          }
          out << "</span>";
        }
        out << "</figcaption>\n";
      }
      out << "</figure>\n";
    }
    if (!s.figures.empty()) out << "</div>\n";
    out << "</section>\n";
  }
  out << "<footer>Made by convscope.</footer>\n</main>\n</body>\n</html>\n";
  return out.str();
}

void Report::save(const std::string& path) const { write_file_atomic(path, html()); }

std::vector<std::string> Report::referenced_files() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& p) {
    if (seen.insert(p).second) out.push_back(p);
  };
  for (const Section& s : sections_)
    for (const Figure& f : s.figures) {
      add(f.path);
      for (const auto& d : f.data_files) add(d);
    }
  return out;
}

std::vector<std::string> Report::missing_files(const std::string& report_folder) const {
  std::vector<std::string> missing;
  for (const auto& p : referenced_files())
    if (!is_file(std::filesystem::path(report_folder) / p)) missing.push_back(p);
  return missing;
}

std::vector<std::string> html_references(const std::string& html) {
  std::string lower = html;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::pair<size_t, std::string>> found;  // (position, reference)
  for (const std::string a : {"src=", "href="}) {
    for (size_t pos = lower.find(a); pos != std::string::npos; pos = lower.find(a, pos + 1)) {
      // An attribute: preceded by whitespace, value in quotes.
      if (pos == 0 || !std::isspace(static_cast<unsigned char>(lower[pos - 1]))) continue;
      const size_t q = pos + a.size();
      if (q >= html.size() || (html[q] != '"' && html[q] != '\'')) continue;
      const size_t end = html.find(html[q], q + 1);
      if (end == std::string::npos) continue;
      std::string ref = decode_entities(html.substr(q + 1, end - q - 1));
      if (ref.empty() || ref[0] == '#' || has_scheme(ref)) continue;
      ref = percent_decode(ref.substr(0, ref.find_first_of("?#")));
      if (!ref.empty()) found.emplace_back(pos, ref);
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& [pos, ref] : found)
    if (seen.insert(ref).second) out.push_back(ref);
  return out;
}

std::vector<std::string> missing_report_files(const std::string& html_path) {
  const std::string html = read_file_text(html_path);
  const std::filesystem::path folder = std::filesystem::path(html_path).parent_path();
  std::vector<std::string> missing;
  for (const auto& ref : html_references(html)) {
    const std::filesystem::path p = ref[0] == '/' ? std::filesystem::path(ref) : folder / ref;
    if (!is_file(p)) missing.push_back(ref);
  }
  return missing;
}

}  // namespace cs::viz
