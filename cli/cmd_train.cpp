// convscope train: train a model on FashionMNIST (or MNIST) and write its run folder.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/viz_session.h"
#include "viz/figures.h"
#include "cli/settings.h"
#include "models/summary.h"
#include "models/trainer.h"

namespace cs::cli {

void register_train(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train",
      "Train a model and write runs/<name>/: config, metrics, checkpoints, curves, report.\n"
      "Settings default to the model spec's `train` line; flags and --set override them.");
  struct Options {
    std::string model = "fashion-cnn";
    std::string data, device = "auto", out, epochs, batch_size, lr, optimizer, seed;
    std::vector<std::string> set;
    std::string viz = "auto";
    int64_t stop_after = 0;
    bool resume = false, no_progress = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--model,-m", o->model,
                  "Built-in model (fashion-cnn, alexnet, alexnet-2012, zfnet) or net-spec file")
      ->capture_default_str();
  cmd->add_option("--data", o->data, "Dataset folder (default: /usr/share/datasets/fashion-mnist)");
  cmd->add_option("--epochs", o->epochs, "Epochs (default: from the model spec, 10 for fashion-cnn)");
  cmd->add_option("--batch-size", o->batch_size, "Batch size (default: from the spec, 128)");
  cmd->add_option("--lr", o->lr, "Base learning rate (default: from the spec)");
  cmd->add_option("--optimizer", o->optimizer, "sgd, adam or adamw (default: from the spec)");
  cmd->add_option("--seed", o->seed, "Seed of init, shuffling and dropout (default: 1)");
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--out", o->out, "Run folder (default: runs/<model>-<date>-<time>)");
  cmd->add_option("--set", o->set,
                  "Any model param or training setting: --set key=value (repeatable; "
                  "e.g. dropout=0.2 width=64 momentum=0.8 schedule=step label_smoothing=0.1)");
  cmd->add_flag("--resume", o->resume, "Continue the interrupted run in --out exactly");
  cmd->add_flag("--no-progress", o->no_progress, "No live progress line");
  cmd->add_option("--viz", o->viz,
                  "Pictures after training: all, quick (fewer scanned images and steps), curves (training "
                  "curves only) or none; auto: all on a GPU, quick on the CPU")
      ->capture_default_str();
  cmd->add_option("--stop-after", o->stop_after, "Stop after this many epochs (continue later with --resume)");
  set_action(cmd, [o] {
    models::TrainRequest request;
    request.model = o->model;
    request.device = o->device;
    request.out_dir = o->out;
    request.resume = o->resume;
    request.progress = !o->no_progress;
    request.settings = parse_set_options(o->set);
    merge_setting(request.settings, "data_dir", o->data, "--data");
    merge_setting(request.settings, "epochs", o->epochs, "--epochs");
    merge_setting(request.settings, "batch_size", o->batch_size, "--batch-size");
    merge_setting(request.settings, "lr", o->lr, "--lr");
    merge_setting(request.settings, "optimizer", o->optimizer, "--optimizer");
    merge_setting(request.settings, "seed", o->seed, "--seed");
    CS_CHECK(o->viz == "auto" || o->viz == "all" || o->viz == "quick" || o->viz == "curves" || o->viz == "none",
             "--viz must be auto, all, quick, curves or none, got '" << o->viz << "'");
    request.stop_after_epochs = o->stop_after;
    if (o->viz != "none")
      request.on_epoch = [](const std::string& dir, const std::vector<models::EpochRecord>& history,
                            const models::Evaluation& test, const models::DataSource& data, const models::Model&) {
        viz::write_training_figures(dir, history, test, data.class_names);
        viz::write_run_report(dir);
      };
    const models::TrainResult result = models::train(request);
    std::printf("test accuracy %.2f%% after %zu epochs; run folder %s\n",
                100 * result.final_test.accuracy, result.history.size(), result.run_dir.c_str());
    if (o->viz != "none" && o->viz != "curves") {
      VizSource source;
      source.run = result.run_dir;
      source.device = o->device;
      auto session = open_viz_session(source);
      const bool quick = o->viz == "quick" || (o->viz == "auto" && !session->context.device.is_cuda());
      std::printf("visualizing the trained model (%s; --viz none skips this) ...\n", quick ? "quick" : "all");
      write_all_figures(session->context, quick);
    }
    if (o->viz != "none") std::printf("report: %s\n", viz::write_run_report(result.run_dir).c_str());
    return 0;
  });
}

}  // namespace cs::cli
