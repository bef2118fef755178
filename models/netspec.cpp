#include "models/netspec.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "layers/activation.h"
#include "layers/batchnorm.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/lrn.h"
#include "layers/pooling.h"
#include "runtime/file_io.h"

namespace cs::models {

namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool valid_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Where an error happened: "fashion-cnn.spec:12: ".
std::string at(const std::string& source, int line) {
  return source + ":" + std::to_string(line) + ": ";
}

// Splits "key=value" words from positional ones.
void parse_arguments(const std::vector<std::string>& words, size_t first, SpecLayer& layer,
                     const std::string& where) {
  for (size_t i = first; i < words.size(); ++i) {
    const size_t eq = words[i].find('=');
    if (eq == std::string::npos) {
      CS_CHECK(layer.options.empty(), where << "positional argument '" << words[i]
                                            << "' after key=value options");
      layer.positional.push_back(words[i]);
    } else {
      const std::string key = words[i].substr(0, eq), value = words[i].substr(eq + 1);
      CS_CHECK(!key.empty() && !value.empty(), where << "malformed option '" << words[i]
                                                     << "' (expected key=value)");
      CS_CHECK(!layer.options.count(key), where << "option '" << key << "' given twice");
      layer.options[key] = value;
    }
  }
}

}  // namespace

NetSpec parse_net_spec(const std::string& text, const std::string& source) {
  NetSpec spec;
  spec.source = source;
  spec.text = text;
  std::istringstream in(text);
  std::string raw;
  int line = 0;
  SpecEntry* block = nullptr;
  std::set<std::string> entry_names;
  while (std::getline(in, raw)) {
    ++line;
    const std::string where = at(source, line);
    const size_t hash = raw.find('#');
    const std::string content = trim(hash == std::string::npos ? raw : raw.substr(0, hash));
    if (content.empty()) continue;
    if (content.front() == '[') {
      CS_CHECK(content.back() == ']', where << "a block header looks like [name], got '" << content << "'");
      const std::string name = trim(content.substr(1, content.size() - 2));
      CS_CHECK(valid_name(name), where << "bad block name '" << name << "' (letters, digits, _ and -)");
      CS_CHECK(entry_names.insert(name).second, where << "a block or layer named '" << name
                                                      << "' already exists");
      spec.entries.push_back(SpecEntry{line, name, true, {}});
      block = &spec.entries.back();
      continue;
    }
    const std::vector<std::string> words = split_words(content);
    const std::string& head = words[0];
    if (head == "model") {
      CS_CHECK(words.size() == 2, where << "expected `model NAME`");
      spec.name = words[1];
    } else if (head == "input") {
      CS_CHECK(words.size() == 4, where << "expected `input CHANNELS HEIGHT WIDTH`");
      spec.input.assign(words.begin() + 1, words.end());
      spec.input_line = line;
    } else if (head == "param") {
      // param NAME = VALUE, or param NAME=VALUE
      std::string rest = trim(content.substr(5));
      const size_t eq = rest.find('=');
      CS_CHECK(eq != std::string::npos, where << "expected `param NAME = VALUE`");
      const std::string key = trim(rest.substr(0, eq)), value = trim(rest.substr(eq + 1));
      CS_CHECK(valid_name(key) && !value.empty(), where << "expected `param NAME = VALUE`");
      CS_CHECK(!spec.params.count(key), where << "param '" << key << "' declared twice");
      spec.params[key] = value;
      spec.param_order.push_back(key);
    } else if (head == "train") {
      SpecLayer settings;
      parse_arguments(words, 1, settings, where);
      CS_CHECK(settings.positional.empty(), where << "expected `train key=value ...`");
      for (const auto& [k, v] : settings.options) spec.train[k] = v;
    } else if (head == "layer") {
      // layer NAME: TYPE args...
      const size_t colon = content.find(':');
      CS_CHECK(colon != std::string::npos, where << "expected `layer NAME: TYPE ...`");
      const std::string name = trim(content.substr(5, colon - 5));
      CS_CHECK(valid_name(name), where << "bad layer name '" << name << "'");
      CS_CHECK(entry_names.insert(name).second, where << "a block or layer named '" << name
                                                      << "' already exists");
      const std::vector<std::string> rest = split_words(content.substr(colon + 1));
      CS_CHECK(!rest.empty(), where << "expected a layer type after `layer " << name << ":`");
      SpecLayer layer;
      layer.line = line;
      layer.type = rest[0];
      parse_arguments(rest, 1, layer, where);
      spec.entries.push_back(SpecEntry{line, name, false, {layer}});
      block = nullptr;
    } else {
      CS_CHECK(block != nullptr, where << "layer '" << head << "' outside a [block] (start one "
                                       << "with [name], or use `layer NAME: " << head << " ...`)");
      SpecLayer layer;
      layer.line = line;
      layer.type = head;
      parse_arguments(words, 1, layer, where);
      block->layers.push_back(layer);
    }
  }
  CS_CHECK(!spec.input.empty(), source << ": no `input CHANNELS HEIGHT WIDTH` line");
  CS_CHECK(!spec.entries.empty(), source << ": the spec defines no layers");
  for (const SpecEntry& e : spec.entries)
    CS_CHECK(!e.layers.empty(), at(source, e.line) << "block [" << e.name << "] has no layers");
  if (spec.name.empty()) spec.name = source;
  return spec;
}

std::vector<std::string> apply_overrides(NetSpec& spec,
                                         const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> unused;
  for (const auto& [key, value] : overrides) {
    if (spec.params.count(key))
      spec.params[key] = value;
    else
      unused.push_back(key);
  }
  return unused;
}

NetSpec load_net_spec(const std::string& name_or_path) {
  if (is_builtin_model(name_or_path))
    return parse_net_spec(builtin_spec_text(name_or_path), "builtin:" + name_or_path);
  if (!file_exists(name_or_path)) {
    std::string names;
    for (const auto& n : builtin_model_names()) names += (names.empty() ? "" : ", ") + n;
    CS_FAIL("unknown model '" << name_or_path << "': not a built-in model (" << names
                              << ") and no such spec file");
  }
  return parse_net_spec(read_file_text(name_or_path), name_or_path);
}

// ---- building ------------------------------------------------------------------------

namespace {

// A layer line with ${params} substituted, and typed accessors with errors
// that point at the line.
class LayerArgs {
 public:
  LayerArgs(const SpecLayer& layer, const NetSpec& spec) : layer_(layer), where_(at(spec.source, layer.line)) {
    for (const std::string& p : layer.positional) positional_.push_back(substitute(p, spec));
    for (const auto& [k, v] : layer.options) options_[k] = substitute(v, spec);
  }

  const std::string& where() const { return where_; }

  void allow(size_t max_positional, std::initializer_list<const char*> keys) const {
    CS_CHECK(positional_.size() <= max_positional,
             where_ << layer_.type << " takes at most " << max_positional
                    << " positional arguments, got " << positional_.size());
    for (const auto& [k, v] : options_) {
      bool known = false;
      std::string valid;
      for (const char* key : keys) {
        known = known || k == key;
        valid += (valid.empty() ? "" : ", ") + std::string(key);
      }
      CS_CHECK(known, where_ << layer_.type << ": unknown option '" << k << "' (expected one of: "
                             << (valid.empty() ? "none" : valid) << ")");
    }
  }

  bool has(const char* key, size_t position) const {
    return options_.count(key) || positional_.size() > position;
  }

  std::string text(const char* key, size_t position, const std::string& fallback) const {
    auto it = options_.find(key);
    if (it != options_.end()) return it->second;
    if (position < positional_.size()) return positional_[position];
    return fallback;
  }

  int integer(const char* key, size_t position, int fallback, int minimum) const {
    const std::string t = text(key, position, std::to_string(fallback));
    int value = 0;
    try {
      size_t used = 0;
      value = std::stoi(t, &used);
      CS_CHECK(used == t.size(), "");
    } catch (...) {
      CS_FAIL(where_ << layer_.type << ": " << key << " must be a whole number, got '" << t << "'");
    }
    CS_CHECK(value >= minimum, where_ << layer_.type << ": " << key << " must be at least "
                                      << minimum << ", got " << value);
    return value;
  }

  // "3" -> (3, 3); "7x5" -> (7, 5).
  std::pair<int, int> pair(const char* key, size_t position, int fallback, int minimum) const {
    const std::string t = text(key, position, std::to_string(fallback));
    const size_t x = t.find('x');
    auto parse = [&](const std::string& s) {
      try {
        size_t used = 0;
        const int v = std::stoi(s, &used);
        CS_CHECK(used == s.size(), "");
        CS_CHECK(v >= minimum, "");
        return v;
      } catch (...) {
        CS_FAIL(where_ << layer_.type << ": " << key << " must be N or NxM with N, M >= "
                       << minimum << ", got '" << t << "'");
      }
    };
    if (x == std::string::npos) {
      const int v = parse(t);
      return {v, v};
    }
    return {parse(t.substr(0, x)), parse(t.substr(x + 1))};
  }

  double real(const char* key, size_t position, double fallback) const {
    const std::string t = text(key, position, "");
    if (t.empty()) return fallback;
    try {
      size_t used = 0;
      const double v = std::stod(t, &used);
      CS_CHECK(used == t.size(), "");
      return v;
    } catch (...) {
      CS_FAIL(where_ << layer_.type << ": " << key << " must be a number, got '" << t << "'");
    }
  }

  bool boolean(const char* key, bool fallback) const {
    auto it = options_.find(key);
    if (it == options_.end()) return fallback;
    if (it->second == "true" || it->second == "1" || it->second == "yes") return true;
    if (it->second == "false" || it->second == "0" || it->second == "no") return false;
    CS_FAIL(where_ << layer_.type << ": " << key << " must be true or false, got '" << it->second << "'");
  }

 private:
  std::string substitute(const std::string& word, const NetSpec& spec) const {
    std::string out;
    size_t i = 0;
    while (i < word.size()) {
      const size_t start = word.find("${", i);
      if (start == std::string::npos) {
        out += word.substr(i);
        break;
      }
      const size_t end = word.find('}', start);
      CS_CHECK(end != std::string::npos, where_ << "unclosed ${ in '" << word << "'");
      const std::string name = word.substr(start + 2, end - start - 2);
      auto it = spec.params.find(name);
      CS_CHECK(it != spec.params.end(), where_ << "unknown param ${" << name
                                               << "} (declare it with `param " << name << " = ...`)");
      out += word.substr(i, start - i) + it->second;
      i = end + 1;
    }
    return out;
  }

  const SpecLayer& layer_;
  std::string where_;
  std::vector<std::string> positional_;
  std::map<std::string, std::string> options_;
};

std::shared_ptr<nn::Module> make_layer(const LayerArgs& a, const std::string& type, const Shape& in) {
  const std::string& where = a.where();
  if (type == "conv") {
    a.allow(2, {"out", "kernel", "stride", "padding", "dilation", "groups", "bias"});
    CS_CHECK(a.has("out", 0), where << "conv needs the number of output channels (conv OUT KERNEL ...)");
    CS_CHECK(in.size() == 4, where << "conv needs an (N, C, H, W) input, got " << shape_str(in));
    nn::Conv2dOptions o;
    o.in_channels = static_cast<int>(in[1]);
    o.out_channels = a.integer("out", 0, 1, 1);
    std::tie(o.kernel_h, o.kernel_w) = a.pair("kernel", 1, 3, 1);
    std::tie(o.args.stride_h, o.args.stride_w) = a.pair("stride", 99, 1, 1);
    std::tie(o.args.pad_h, o.args.pad_w) = a.pair("padding", 99, 0, 0);
    std::tie(o.args.dilation_h, o.args.dilation_w) = a.pair("dilation", 99, 1, 1);
    o.args.groups = a.integer("groups", 99, 1, 1);
    o.bias = a.boolean("bias", true);
    CS_CHECK(o.in_channels % o.args.groups == 0 && o.out_channels % o.args.groups == 0,
             where << "conv: groups=" << o.args.groups << " must divide the " << o.in_channels
                   << " input channels and the " << o.out_channels << " output channels");
    return std::make_shared<nn::Conv2d>(o);
  }
  if (type == "linear") {
    a.allow(1, {"out", "bias"});
    CS_CHECK(a.has("out", 0), where << "linear needs the number of outputs (linear OUT)");
    CS_CHECK(in.size() == 2, where << "linear needs an (N, features) input, got " << shape_str(in)
                                   << ": add `flatten` before it");
    return std::make_shared<nn::Linear>(static_cast<int>(in[1]), a.integer("out", 0, 1, 1),
                                        a.boolean("bias", true));
  }
  if (type == "relu") {
    a.allow(0, {});
    return std::make_shared<nn::ReLU>();
  }
  if (type == "leaky_relu") {
    a.allow(1, {"slope"});
    return std::make_shared<nn::LeakyReLU>(a.real("slope", 0, 0.01));
  }
  if (type == "maxpool" || type == "avgpool") {
    a.allow(1, {"kernel", "stride", "padding", "ceil_mode", "count_include_pad"});
    kernels::Pool2dArgs p;
    std::tie(p.kernel_h, p.kernel_w) = a.pair("kernel", 0, 2, 1);
    std::tie(p.stride_h, p.stride_w) =
        a.pair("stride", 99, 1, 1);  // placeholder, replaced below when absent
    if (!a.has("stride", 99)) std::tie(p.stride_h, p.stride_w) = std::pair{p.kernel_h, p.kernel_w};
    std::tie(p.pad_h, p.pad_w) = a.pair("padding", 99, 0, 0);
    p.ceil_mode = a.boolean("ceil_mode", false);
    p.count_include_pad = a.boolean("count_include_pad", true);
    if (type == "maxpool") return std::make_shared<nn::MaxPool2d>(p);
    return std::make_shared<nn::AvgPool2d>(p);
  }
  if (type == "adaptive_avgpool") {
    a.allow(2, {"height", "width"});
    const int h = a.integer("height", 0, 1, 1);
    const int w = a.has("width", 1) ? a.integer("width", 1, 1, 1) : h;
    return std::make_shared<nn::AdaptiveAvgPool2d>(h, w);
  }
  if (type == "batchnorm") {
    a.allow(0, {"eps", "momentum"});
    CS_CHECK(in.size() == 4 || in.size() == 2,
             where << "batchnorm needs an (N, C, H, W) or (N, C) input, got " << shape_str(in));
    return std::make_shared<nn::BatchNorm>(static_cast<int>(in[1]), in.size() == 4 ? 2 : 1,
                                           a.real("eps", 99, 1e-5), a.real("momentum", 99, 0.1));
  }
  if (type == "dropout") {
    a.allow(1, {"p"});
    return std::make_shared<nn::Dropout>(a.real("p", 0, 0.5));
  }
  if (type == "lrn") {
    a.allow(1, {"size", "alpha", "beta", "k"});
    kernels::LrnArgs l;
    l.size = a.integer("size", 0, 5, 1);
    l.alpha = a.real("alpha", 99, 1e-4);
    l.beta = a.real("beta", 99, 0.75);
    l.k = a.real("k", 99, 1.0);
    return std::make_shared<nn::LocalResponseNorm>(l);
  }
  if (type == "flatten") {
    a.allow(0, {});
    return std::make_shared<nn::Flatten>();
  }
  CS_FAIL(where << "unknown layer type '" << type << "'. Layer types:\n" << describe_layer_types());
}

}  // namespace

std::string describe_layer_types() {
  return "  conv OUT [KERNEL] [stride=S] [padding=P] [dilation=D] [groups=G] [bias=true|false]\n"
         "  linear OUT [bias=true|false]\n"
         "  relu | leaky_relu [SLOPE]\n"
         "  maxpool KERNEL [stride=S] [padding=P] [ceil_mode=true]   (stride defaults to KERNEL)\n"
         "  avgpool KERNEL [stride=S] [padding=P] [ceil_mode=true] [count_include_pad=false]\n"
         "  adaptive_avgpool HEIGHT [WIDTH]\n"
         "  batchnorm [eps=E] [momentum=M]   (2d or 1d from the input's rank)\n"
         "  dropout [P]\n"
         "  lrn [SIZE] [alpha=A] [beta=B] [k=K]\n"
         "  flatten\n"
         "  (sizes may be N or HxW; values may use ${param})\n";
}

Model build_model(const NetSpec& spec, uint64_t seed) {
  Model model;
  model.spec = spec;
  model.net = std::make_shared<nn::Sequential>();
  // The input shape, with params substituted.
  SpecLayer input_line;
  input_line.line = spec.input_line;
  input_line.type = "input";
  input_line.positional = spec.input;
  const LayerArgs input_args(input_line, spec);
  model.input_shape = {input_args.integer("channels", 0, 1, 1), input_args.integer("height", 1, 1, 1),
                       input_args.integer("width", 2, 1, 1)};
  Shape shape = {1, model.input_shape[0], model.input_shape[1], model.input_shape[2]};

  auto add_layer = [&](const SpecLayer& layer, auto&& attach) {
    const LayerArgs args(layer, spec);
    std::shared_ptr<nn::Module> module = make_layer(args, layer.type, shape);
    try {
      shape = module->output_shape(shape);
    } catch (const Error& e) {
      CS_FAIL(args.where() << layer.type << ": " << e.message());
    }
    CS_CHECK(shape_numel(shape) > 0, args.where() << layer.type << " leaves nothing: output shape "
                                                  << shape_str(shape));
    attach(module);
  };
  for (const SpecEntry& entry : spec.entries) {
    if (entry.is_block) {
      auto block = std::make_shared<nn::Sequential>();
      for (const SpecLayer& layer : entry.layers)
        add_layer(layer, [&](std::shared_ptr<nn::Module> m) { block->add(std::move(m)); });
      model.net->add(entry.name, block);
    } else {
      add_layer(entry.layers[0],
                [&](std::shared_ptr<nn::Module> m) { model.net->add(entry.name, std::move(m)); });
    }
  }
  CS_CHECK(shape.size() == 2, spec.source << ": the network must end with (N, classes) outputs, "
                                          << "it ends with " << shape_str(shape)
                                          << " (add flatten and a linear layer)");
  model.classes = static_cast<int>(shape[1]);
  model.net->reset_parameters(seed);
  return model;
}

}  // namespace cs::models
