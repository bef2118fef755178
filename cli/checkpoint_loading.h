// Loading a model for inference from the command line: a convscope
// checkpoint (the spec travels in it) or foreign weights with --model.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "models/checkpoint.h"

namespace cs::cli {

struct InferenceModel {
  models::Model model;
  std::vector<std::string> class_names;  // from the checkpoint, a --classes file, or "class N"
  std::vector<float> mean, std;          // input normalisation
  std::string normalisation_source;      // where mean/std came from
};

// spec_fallback/overrides: for weights without a stored spec (torchvision's).
InferenceModel load_for_inference(const std::string& checkpoint, const std::string& spec_fallback,
                                  const std::map<std::string, std::string>& overrides,
                                  const std::string& classes_file, bool strict, Device device);

}  // namespace cs::cli
