// Errors: one exception type and one macro family.
//
// Library code throws cs::Error; only cli/ turns exceptions into exit codes.
// CS_CHECK(cond, msg) takes a stream expression so messages can name values:
//   CS_CHECK(k > 0, "kernel size must be positive, got " << k);
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace cs {

class Error : public std::runtime_error {
 public:
  // what() is the full text; message() is the part meant for a user.
  Error(std::string message, std::string expression, const char* file, int line);

  const std::string& message() const { return message_; }
  const std::string& expression() const { return expression_; }
  const char* file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string message_;
  std::string expression_;
  const char* file_;
  int line_;
};

[[noreturn]] void throw_error(const std::string& message, const char* expression,
                              const char* file, int line);

}  // namespace cs

#define CS_CHECK(cond, msg)                                                  \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::ostringstream cs_check_stream_;                                   \
      cs_check_stream_ << msg;                                               \
      ::cs::throw_error(cs_check_stream_.str(), #cond, __FILE__, __LINE__);  \
    }                                                                        \
  } while (0)

// Unconditional failure with the same formatting.
#define CS_FAIL(msg)                                                         \
  do {                                                                       \
    std::ostringstream cs_check_stream_;                                     \
    cs_check_stream_ << msg;                                                 \
    ::cs::throw_error(cs_check_stream_.str(), "", __FILE__, __LINE__);       \
  } while (0)
