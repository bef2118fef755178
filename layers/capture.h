// Activation capture by layer name. While an ActivationCapture lives, every
// module call on this thread offers its output; the requested ones are kept.
//
//   nn::ActivationCapture capture({"features.3", "features.7"});
//   model(x);
//   Variable a = capture.get("features.3");
//
// With stop_after_last, Sequential modules stop as soon as every requested
// layer has been seen, so a scan of an early layer skips the rest of the net.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace cs::nn {

class ActivationCapture {
 public:
  explicit ActivationCapture(std::vector<std::string> layer_paths, bool stop_after_last = false);
  ~ActivationCapture();
  ActivationCapture(const ActivationCapture&) = delete;
  ActivationCapture& operator=(const ActivationCapture&) = delete;

  bool has(const std::string& path) const;
  // Throws naming the layer (and the captured ones) when it was not seen.
  const ag::Variable& get(const std::string& path) const;
  bool complete() const;

  // Called by Module::operator().
  void offer(const std::string& path, const ag::Variable& output);
  bool should_stop() const { return stop_after_last_ && complete(); }

  static ActivationCapture* active();

 private:
  std::vector<std::string> wanted_;
  std::map<std::string, ag::Variable> captured_;
  bool stop_after_last_;
  ActivationCapture* previous_;
};

}  // namespace cs::nn
