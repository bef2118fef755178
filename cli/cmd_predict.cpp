// convscope predict: classify image files with a checkpoint (top-k labels).
#include <algorithm>
#include <cstdio>

#include "autograd/ops.h"
#include "cli/checkpoint_loading.h"
#include "cli/commands.h"
#include "cli/settings.h"
#include "kernels/softmax.h"
#include "kernels/tensor_ops.h"
#include "models/data.h"
#include "models/image_folder.h"

namespace cs::cli {

void register_predict(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "Classify image files (PNG, JPEG, ...) with a checkpoint");
  struct Options {
    std::vector<std::string> images;
    std::string checkpoint, model, classes, device = "auto";
    std::vector<std::string> set;
    int top = 5;
    bool non_strict = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("images", o->images, "Image files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--checkpoint,-c", o->checkpoint, "A .safetensors checkpoint")->required();
  cmd->add_option("--model,-m", o->model, "Model for weights without a stored spec (e.g. alexnet)");
  cmd->add_option("--set", o->set, "Model params for --model: --set key=value (e.g. classes=1000)");
  cmd->add_option("--classes", o->classes, "Text file with one class name per line");
  cmd->add_option("--top", o->top, "How many labels to show per image")->capture_default_str();
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--non-strict", o->non_strict, "Load the tensors that match and ignore the rest");
  set_action(cmd, [o] {
    const Device device = parse_device(o->device);
    InferenceModel m = load_for_inference(o->checkpoint, o->model, parse_set_options(o->set),
                                          o->classes, !o->non_strict, device);
    const Shape& input = m.model.input_shape;
    CS_CHECK(o->top >= 1, "--top must be at least 1");
    const int top = std::min(o->top, m.model.classes);
    std::printf("%s on %s, inputs %lldx%lldx%lld normalised with %s\n", m.model.spec.name.c_str(),
                device.str().c_str(), static_cast<long long>(input[0]), static_cast<long long>(input[1]),
                static_cast<long long>(input[2]), m.normalisation_source.c_str());
    models::DataSource norm;
    norm.mean = m.mean;
    norm.std = m.std;
    for (const std::string& path : o->images) {
      // Shorter side to the model's size, centre crop (square models).
      const Tensor image = models::load_image_resized(path, static_cast<int>(input[0]), std::max(input[1], input[2]));
      const Tensor batch = image.reshape({1, image.dim(0), image.dim(1), image.dim(2)}).to(device);
      const Tensor x = models::prepare_images(batch, norm, input);
      ag::NoGradGuard no_grad;
      const ag::Variable logits = (*m.model.net)(ag::Variable(x));
      Tensor probs = Tensor::empty_like(logits.value());
      kernels::softmax_forward(logits.value(), probs);
      Tensor values = Tensor::empty({1, top}, device), indices = Tensor::empty({1, top}, device, DType::I32);
      kernels::topk_rows(probs, top, values, indices);
      const std::vector<float> v = values.to_vector<float>();
      const std::vector<int32_t> idx = indices.to_vector<int32_t>();
      std::printf("%s\n", path.c_str());
      for (int k = 0; k < top; ++k)
        std::printf("  %6.2f%%  %s\n", 100 * v[k], m.class_names[idx[k]].c_str());
    }
    return 0;
  });
}

}  // namespace cs::cli
