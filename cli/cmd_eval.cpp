// convscope eval: accuracy, per-class accuracy and confusion matrix of a checkpoint.
#include <cstdio>

#include "cli/commands.h"
#include "cli/settings.h"
#include "models/checkpoint.h"
#include "models/evaluate.h"

namespace cs::cli {

void register_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a checkpoint on the test set");
  struct Options {
    std::string checkpoint, model, data, dataset = "fashion-mnist", device = "auto";
    std::vector<std::string> set;
    bool non_strict = false;
    int64_t batch_size = 1000, max_test = 0;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("checkpoint", o->checkpoint, "A .safetensors checkpoint (runs/<name>/checkpoint.safetensors)")
      ->required();
  cmd->add_option("--model,-m", o->model, "Model for weights without a stored spec (e.g. alexnet)");
  cmd->add_option("--set", o->set, "Model params for --model: --set key=value");
  cmd->add_option("--dataset", o->dataset, "fashion-mnist or mnist")->capture_default_str();
  cmd->add_option("--data", o->data, "Dataset folder (default: the dataset's package folder)");
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Evaluation batch size")->capture_default_str();
  cmd->add_option("--max-test", o->max_test, "Evaluate only the first N test images (0 = all)")
      ->capture_default_str();
  cmd->add_flag("--non-strict", o->non_strict, "Load the tensors that match and ignore the rest");
  set_action(cmd, [o] {
    const Device device = parse_device(o->device);
    say_once_if_cpu_fallback(device, o->device);
    models::LoadedCheckpoint loaded = models::load_checkpoint(
        o->checkpoint, o->model, parse_set_options(o->set), !o->non_strict);
    loaded.model.net->to(device);
    models::DataConfig dc;
    dc.dataset = o->dataset;
    dc.dir = o->data;
    dc.max_train = 1;  // only the test split is used
    dc.max_test = o->max_test;
    const models::DataSource data = models::load_dataset(dc, device);
    CS_CHECK(static_cast<int>(data.class_names.size()) == loaded.model.classes,
             "the model has " << loaded.model.classes << " outputs, the dataset "
                              << data.class_names.size() << " classes");
    const models::Evaluation e =
        models::evaluate(*loaded.model.net, data.test, data, loaded.model.input_shape,
                         loaded.model.classes, o->batch_size);
    std::printf("%s on %lld %s test images: accuracy %.2f%%, loss %.4f\n",
                loaded.model.spec.name.c_str(), static_cast<long long>(e.examples),
                data.name.c_str(), 100 * e.accuracy, e.loss);
    std::printf("\n%-14s %8s\n", "class", "accuracy");
    for (size_t c = 0; c < data.class_names.size(); ++c)
      std::printf("%-14s %7.2f%%\n", data.class_names[c].c_str(), 100 * e.per_class_accuracy[c]);
    std::printf("\nconfusion matrix (rows: true class, columns: predicted)\n%14s", "");
    for (size_t c = 0; c < data.class_names.size(); ++c) std::printf(" %5zu", c);
    std::printf("\n");
    for (size_t r = 0; r < data.class_names.size(); ++r) {
      std::printf("%2zu %-11.11s", r, data.class_names[r].c_str());
      for (size_t c = 0; c < data.class_names.size(); ++c)
        std::printf(" %5lld", static_cast<long long>(e.confusion[r][c]));
      std::printf("\n");
    }
    return 0;
  });
}

}  // namespace cs::cli
