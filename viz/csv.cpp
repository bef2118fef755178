#include "viz/csv.h"

#include <charconv>
#include <cmath>

#include "runtime/error.h"
#include "runtime/file_io.h"

namespace cs::viz {

std::string format_number_exact(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, result.ptr);
}

namespace {
std::string format_float(float value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);  // shortest for a float
  return std::string(buf, result.ptr);
}
}  // namespace

CsvCell::CsvCell(const std::string& text) : text_(text), is_text_(true) {}
CsvCell::CsvCell(const char* text) : text_(text ? text : ""), is_text_(true) {}
CsvCell::CsvCell(double value) : text_(format_number_exact(value)) {}
CsvCell::CsvCell(float value) : text_(format_float(value)) {}

std::string csv_field(const std::string& text) {
  const bool quote = text.find_first_of(",\"\r\n") != std::string::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return text;
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

CsvWriter::CsvWriter(std::vector<std::string> header) : columns_(header.size()) {
  CS_CHECK(!header.empty(), "CSV: the header needs at least one column");
  for (size_t i = 0; i < header.size(); ++i) {
    if (i) text_ += ',';
    text_ += csv_field(header[i]);
  }
  text_ += '\n';
}

void CsvWriter::add_row(const std::vector<CsvCell>& row) {
  CS_CHECK(row.size() == columns_, "CSV: row " << rows_ + 1 << " has " << row.size()
                                               << " fields, the header has " << columns_);
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) text_ += ',';
    text_ += row[i].is_text() ? csv_field(row[i].text()) : row[i].text();
  }
  text_ += '\n';
  ++rows_;
}

void CsvWriter::add_numbers(const std::vector<double>& row) {
  std::vector<CsvCell> cells(row.begin(), row.end());
  add_row(cells);
}

void CsvWriter::save(const std::string& path) const { write_file_atomic(path, text_); }

}  // namespace cs::viz
