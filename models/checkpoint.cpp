#include "models/checkpoint.h"

#include <nlohmann/json.hpp>

#include "runtime/safetensors.h"

namespace cs::models {

namespace {
const char* kSpecKey = "convscope.spec";
const char* kSpecSourceKey = "convscope.spec_source";
const char* kParamsKey = "convscope.params";
}  // namespace

std::string params_to_json(const NetSpec& spec) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : spec.params) j[k] = v;
  return j.dump();
}

void params_from_json(NetSpec& spec, const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    CS_FAIL("checkpoint params are not valid JSON: " << e.what());
  }
  CS_CHECK(j.is_object(), "checkpoint params must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    CS_CHECK(it.value().is_string(), "checkpoint param '" << it.key() << "' is not a string");
    CS_CHECK(spec.params.count(it.key()), "checkpoint param '" << it.key()
                                                               << "' is not declared by its spec");
    spec.params[it.key()] = it.value().get<std::string>();
  }
}

void save_checkpoint(const std::string& path, Model& model,
                     const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> metadata = extra;
  metadata[kSpecSourceKey] = model.spec.source;
  metadata[kParamsKey] = params_to_json(model.spec);
  metadata[kSpecKey] = model.spec.text;
  save_safetensors(path, model.net->state_dict(), metadata);
}

LoadedCheckpoint load_checkpoint(const std::string& path, const std::string& spec_fallback,
                                 const std::map<std::string, std::string>& overrides, bool strict) {
  SafetensorsFile file = load_safetensors(path);
  NetSpec spec;
  auto spec_it = file.metadata.find(kSpecKey);
  if (spec_it != file.metadata.end()) {
    auto source_it = file.metadata.find(kSpecSourceKey);
    spec = parse_net_spec(spec_it->second,
                          source_it != file.metadata.end() ? source_it->second : path + "#spec");
    auto params_it = file.metadata.find(kParamsKey);
    if (params_it != file.metadata.end()) params_from_json(spec, params_it->second);
  } else {
    CS_CHECK(!spec_fallback.empty(),
             path << " holds weights without a convscope model spec: name the model with --model "
                     "(e.g. --model alexnet for torchvision's AlexNet)");
    spec = load_net_spec(spec_fallback);
  }
  const std::vector<std::string> unknown = apply_overrides(spec, overrides);
  CS_CHECK(unknown.empty(), "unknown model param '" << unknown.front() << "' for " << spec.name);
  LoadedCheckpoint out{build_model(spec, 0), file.metadata};
  out.model.net->load_state_dict(file.tensors, strict);
  return out;
}

}  // namespace cs::models
