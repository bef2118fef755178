// Net specs: networks as small text files, so architectures change without
// recompiling. One layer per line, '#' comments, blocks in [brackets]:
//
//   model fashion-cnn                  # a name
//   input ${channels} 28 28            # C H W of one example
//   param channels = 1                 # hyperparameters: ${name}, --set name=value
//   param classes = 10
//   train optimizer=sgd lr=0.05        # default training settings (--set overrides)
//
//   [features]                         # a Sequential named "features"
//   conv 32 3 padding=1                # Conv2d: out channels, kernel, options
//   batchnorm
//   relu
//   maxpool 2
//
//   layer avgpool: adaptive_avgpool 6 6   # a single named layer at the top level
//   layer flatten: flatten
//
//   [classifier]
//   dropout ${dropout}
//   linear ${classes}
//
// Layer types: conv, linear, relu, leaky_relu, maxpool, avgpool,
// adaptive_avgpool, batchnorm, dropout, lrn, flatten (describe_layer_types()).
// Input channels and features are inferred from the shapes flowing in, so a
// change in one layer never needs edits downstream. Errors name the file, the
// line and, for shape problems, the shape that arrived.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "layers/sequential.h"

namespace cs::models {

struct SpecLayer {
  int line = 0;
  std::string type;
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
};

struct SpecEntry {
  int line = 0;
  std::string name;
  bool is_block = false;  // a [block] (Sequential) or a single `layer name: ...`
  std::vector<SpecLayer> layers;
};

struct NetSpec {
  std::string name;
  std::string source;  // file path, or "builtin:NAME"
  std::string text;    // the spec as written (checkpoints carry it)
  std::vector<std::string> input;  // C H W, possibly with ${params}
  int input_line = 0;
  std::map<std::string, std::string> params;
  std::vector<std::string> param_order;
  std::map<std::string, std::string> train;  // default training settings
  std::vector<SpecEntry> entries;
};

NetSpec parse_net_spec(const std::string& text, const std::string& source);

// Built-in model names and their spec text (compiled into the binary).
std::vector<std::string> builtin_model_names();
bool is_builtin_model(const std::string& name);
const std::string& builtin_spec_text(const std::string& name);
// A built-in name or the path of a spec file.
NetSpec load_net_spec(const std::string& name_or_path);

// Applies overrides (--set key=value) to the spec's params and train
// settings; returns the keys it did not recognise.
std::vector<std::string> apply_overrides(NetSpec& spec,
                                         const std::map<std::string, std::string>& overrides);

struct Model {
  std::shared_ptr<nn::Sequential> net;
  NetSpec spec;
  Shape input_shape;  // (C, H, W)
  int classes = 0;    // outputs of the last layer
};

// Builds the network (parameters initialised from `seed`), checking every
// layer against the shape that reaches it.
Model build_model(const NetSpec& spec, uint64_t seed);

// One line per layer type with its arguments, for --help and errors.
std::string describe_layer_types();

}  // namespace cs::models
