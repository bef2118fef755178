// convscope gradients: logits, the input gradient of a class score and every
// weight gradient for a batch, written as safetensors - what
// scripts/compare_with_pytorch.py compares with PyTorch on the same weights.
#include <cstdio>

#include "autograd/ops.h"
#include "cli/commands.h"
#include "cli/settings.h"
#include "models/checkpoint.h"
#include "runtime/npy.h"
#include "runtime/safetensors.h"

namespace cs::cli {

void register_gradients(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "gradients",
      "Write the logits, the input gradient of a class score and all weight gradients of a batch\n"
      "(objective: the sum over the batch of logits[:, class]) to a safetensors file");
  struct Options {
    std::string checkpoint, model, input, out, device = "auto";
    std::vector<std::string> set;
    int target = 0;
    bool train = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--checkpoint,-c", o->checkpoint, "Weights (.safetensors)")->required();
  cmd->add_option("--model,-m", o->model, "Model for weights without a stored spec (e.g. alexnet)");
  cmd->add_option("--set", o->set, "Model params: --set key=value (e.g. classes=10 dropout=0)");
  cmd->add_option("--input", o->input, "Input batch (N, C, H, W) as float32 .npy")->required();
  cmd->add_option("--class", o->target, "Class whose score is differentiated")->capture_default_str();
  cmd->add_flag("--train", o->train, "Train mode (batch statistics; dropout as its p)");
  cmd->add_option("--out", o->out, "Output .safetensors")->required();
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  set_action(cmd, [o] {
    const Device device = parse_device(o->device);
    models::LoadedCheckpoint loaded =
        models::load_checkpoint(o->checkpoint, o->model, parse_set_options(o->set), true);
    nn::Module& net = *loaded.model.net;
    net.to(device);
    net.train(o->train);
    const Tensor x = load_npy(o->input).to(DType::F32).to(device);
    CS_CHECK(x.ndim() == 4, o->input << " must hold an (N, C, H, W) batch, it holds " << shape_str(x.shape()));
    ag::Variable input(x, true, "input");
    const ag::Variable logits = net(input);
    CS_CHECK(o->target >= 0 && o->target < logits.dim(1),
             "--class " << o->target << " outside the model's " << logits.dim(1) << " classes");
    std::vector<float> seed(static_cast<size_t>(logits.value().numel()), 0.0f);
    for (int64_t b = 0; b < logits.dim(0); ++b) seed[static_cast<size_t>(b * logits.dim(1) + o->target)] = 1.0f;
    ag::backward(logits, Tensor::from_vector(seed, logits.shape(), device));
    std::map<std::string, Tensor> out = {{"logits", logits.value()}, {"input_grad", input.grad()}};
    for (auto& [name, p] : net.named_parameters())
      if (p.has_grad()) out["grad." + name] = p.grad();
    save_safetensors(o->out, out);
    std::printf("wrote %zu tensors to %s\n", out.size(), o->out.c_str());
    return 0;
  });
}

}  // namespace cs::cli
