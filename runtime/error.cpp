#include "runtime/error.h"

#include <cstring>

namespace cs {

namespace {

// Keep only the path from the project root so messages stay short.
const char* short_path(const char* file) {
  // The earliest top-level folder in the path is the project's own.
  const char* best = nullptr;
  for (const char* root : {"/runtime/", "/kernels/", "/autograd/", "/layers/", "/models/",
                           "/viz/", "/cli/", "/tests/", "/bench/"}) {
    const char* p = std::strstr(file, root);
    if (p && (!best || p < best)) best = p;
  }
  return best ? best + 1 : file;
}

std::string compose(const std::string& message, const std::string& expression,
                    const char* file, int line) {
  std::ostringstream out;
  out << message;
  if (!expression.empty()) out << " [check failed: " << expression << "]";
  out << " (" << short_path(file) << ":" << line << ")";
  return out.str();
}

}  // namespace

Error::Error(std::string message, std::string expression, const char* file, int line)
    : std::runtime_error(compose(message, expression, file, line)),
      message_(std::move(message)),
      expression_(std::move(expression)),
      file_(short_path(file)),
      line_(line) {}

void throw_error(const std::string& message, const char* expression, const char* file,
                 int line) {
  throw Error(message, expression ? expression : "", file, line);
}

}  // namespace cs
