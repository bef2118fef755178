#include "cli/checkpoint_loading.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/file_io.h"

namespace cs::cli {

namespace {

template <typename T>
bool from_metadata(const std::map<std::string, std::string>& meta, const std::string& key, T& out) {
  auto it = meta.find(key);
  if (it == meta.end()) return false;
  try {
    out = nlohmann::json::parse(it->second).get<T>();
    return true;
  } catch (const std::exception&) {
    CS_FAIL("checkpoint metadata '" << key << "' is malformed");
  }
}

}  // namespace

InferenceModel load_for_inference(const std::string& checkpoint, const std::string& spec_fallback,
                                  const std::map<std::string, std::string>& overrides,
                                  const std::string& classes_file, bool strict, Device device) {
  models::LoadedCheckpoint loaded = models::load_checkpoint(checkpoint, spec_fallback, overrides, strict);
  InferenceModel out{loaded.model, {}, {}, {}, {}};
  out.model.net->to(device);
  out.model.net->eval();
  const int64_t channels = out.model.input_shape[0];
  if (from_metadata(loaded.metadata, "convscope.mean", out.mean) &&
      from_metadata(loaded.metadata, "convscope.std", out.std)) {
    out.normalisation_source = "the training data (checkpoint)";
  } else if (channels == 3) {
    out.mean = {0.485f, 0.456f, 0.406f};
    out.std = {0.229f, 0.224f, 0.225f};
    out.normalisation_source = "ImageNet's (no statistics in the checkpoint)";
  } else {
    out.mean = {0.2860f};
    out.std = {0.3530f};
    out.normalisation_source = "FashionMNIST's (no statistics in the checkpoint)";
  }
  if (!classes_file.empty()) {
    std::istringstream in(read_file_text(classes_file));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.class_names.push_back(line);
    CS_CHECK(static_cast<int>(out.class_names.size()) == out.model.classes,
             classes_file << " names " << out.class_names.size() << " classes, the model has "
                          << out.model.classes);
  } else if (!from_metadata(loaded.metadata, "convscope.class_names", out.class_names)) {
    for (int c = 0; c < out.model.classes; ++c) out.class_names.push_back("class " + std::to_string(c));
  }
  return out;
}

}  // namespace cs::cli
