// A small CSV writer for the raw numbers behind every picture: a header, then
// rows of numbers and strings. Fields with a comma, quote, line break or
// leading/trailing space are quoted (RFC 4180, quotes doubled). Numbers are
// written in the shortest form that reads back to the same value; NaN and
// infinities as nan, inf, -inf (what NumPy and pandas read).
#pragma once

#include <concepts>
#include <string>
#include <vector>

namespace cs::viz {

// One field, already formatted.
class CsvCell {
 public:
  CsvCell(const std::string& text);  // NOLINT: implicit on purpose
  CsvCell(const char* text);
  template <std::integral T>
  CsvCell(T value) : text_(std::to_string(value)) {}
  CsvCell(double value);
  CsvCell(float value);

  const std::string& text() const { return text_; }
  bool is_text() const { return is_text_; }

 private:
  std::string text_;
  bool is_text_ = false;
};

class CsvWriter {
 public:
  explicit CsvWriter(std::vector<std::string> header);

  // Rows must have as many fields as the header (throws otherwise).
  void add_row(const std::vector<CsvCell>& row);
  void add_numbers(const std::vector<double>& row);

  size_t rows() const { return rows_; }
  std::string str() const { return text_; }
  // Writes atomically (runtime/file_io.h).
  void save(const std::string& path) const;

 private:
  size_t columns_;
  size_t rows_ = 0;
  std::string text_;
};

// Quotes a field when CSV needs it.
std::string csv_field(const std::string& text);
// The shortest decimal that reads back to `value` ("0.1", "3", "1e-07", "nan").
std::string format_number_exact(double value);

}  // namespace cs::viz
