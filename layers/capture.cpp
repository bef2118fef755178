#include "layers/capture.h"

#include <algorithm>

#include "runtime/error.h"

namespace cs::nn {

namespace {
thread_local ActivationCapture* t_active = nullptr;
}

ActivationCapture::ActivationCapture(std::vector<std::string> layer_paths, bool stop_after_last)
    : wanted_(std::move(layer_paths)), stop_after_last_(stop_after_last), previous_(t_active) {
  t_active = this;
}

ActivationCapture::~ActivationCapture() { t_active = previous_; }

ActivationCapture* ActivationCapture::active() { return t_active; }

bool ActivationCapture::has(const std::string& path) const { return captured_.count(path) > 0; }

const ag::Variable& ActivationCapture::get(const std::string& path) const {
  auto it = captured_.find(path);
  if (it == captured_.end()) {
    std::string seen;
    for (const auto& [name, v] : captured_) seen += (seen.empty() ? "" : ", ") + name;
    CS_FAIL("layer '" << path << "' was not captured (captured: "
                      << (seen.empty() ? "none" : seen) << "); check the layer name with "
                      << "`convscope summary`");
  }
  return it->second;
}

bool ActivationCapture::complete() const {
  return std::all_of(wanted_.begin(), wanted_.end(),
                     [this](const std::string& p) { return captured_.count(p) > 0; });
}

void ActivationCapture::offer(const std::string& path, const ag::Variable& output) {
  if (std::find(wanted_.begin(), wanted_.end(), path) != wanted_.end()) captured_[path] = output;
}

}  // namespace cs::nn
