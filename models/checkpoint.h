// Checkpoints: a model's weights as safetensors with PyTorch's parameter
// names, plus (in the file's metadata) the net spec and params that built it,
// so `convscope eval/viz/predict` rebuild the model from the file alone.
#pragma once

#include <map>
#include <string>

#include "models/netspec.h"

namespace cs::models {

// Writes the weights of `model` atomically; `extra` metadata is added.
void save_checkpoint(const std::string& path, Model& model,
                     const std::map<std::string, std::string>& extra = {});

struct LoadedCheckpoint {
  Model model;
  std::map<std::string, std::string> metadata;
};

// Rebuilds the model from the spec stored in the checkpoint (or, for
// weights without one, such as torchvision's, from `spec_fallback`: a
// built-in name or spec file, with `overrides`) and loads the weights.
LoadedCheckpoint load_checkpoint(const std::string& path, const std::string& spec_fallback = "",
                                 const std::map<std::string, std::string>& overrides = {},
                                 bool strict = true);

// The params of a spec as one JSON object, and back.
std::string params_to_json(const NetSpec& spec);
void params_from_json(NetSpec& spec, const std::string& json);

}  // namespace cs::models
