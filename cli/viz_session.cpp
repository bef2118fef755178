#include "cli/viz_session.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/settings.h"
#include "models/checkpoint.h"
#include "runtime/file_io.h"

namespace cs::cli {

void add_viz_source_options(CLI::App* cmd, VizSource& s) {
  cmd->add_option("--run", s.run, "A run folder from `convscope train`: its checkpoint and dataset; pictures go into it");
  cmd->add_option("--checkpoint,-c", s.checkpoint, "A .safetensors checkpoint (instead of --run)");
  cmd->add_option("--model,-m", s.model, "Model for weights without a stored spec (e.g. alexnet)");
  cmd->add_option("--set", s.set, "Model params for --model: --set key=value");
  cmd->add_option("--out", s.out, "Folder for the pictures (default: the run folder)");
  cmd->add_option("--device", s.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dataset", s.dataset, "fashion-mnist, mnist or folder (default: the run's)");
  cmd->add_option("--data", s.data, "Dataset folder (default: the run's, or the dataset's package folder)");
  cmd->add_option("--max-test", s.max_test, "Use only the first N test images (0: all)")->capture_default_str();
}

std::unique_ptr<VizSession> open_viz_session(const VizSource& s) {
  CS_CHECK(!s.run.empty() || !s.checkpoint.empty(), "name a run folder (--run DIR) or a checkpoint (--checkpoint FILE)");
  std::string checkpoint = s.checkpoint, out = s.out, dataset = s.dataset, data_dir = s.data;
  std::string image_size;
  if (!s.run.empty()) {
    if (checkpoint.empty()) checkpoint = s.run + "/checkpoint.safetensors";
    if (out.empty()) out = s.run;
    const std::string config_path = s.run + "/config.json";
    CS_CHECK(file_exists(config_path), s.run << " is not a run folder (no config.json)");
    const nlohmann::json config = nlohmann::json::parse(read_file_text(config_path));
    const nlohmann::json settings = config.value("settings", nlohmann::json::object());
    if (dataset.empty()) dataset = settings.value("dataset", "fashion-mnist");
    if (data_dir.empty()) data_dir = settings.value("data_dir", "");
    image_size = settings.value("image_size", "0");
  }
  CS_CHECK(!out.empty(), "name a folder for the pictures with --out DIR");
  CS_CHECK(file_exists(checkpoint), "cannot find the checkpoint " << checkpoint);
  const Device device = parse_device(s.device);
  say_once_if_cpu_fallback(device, s.device);
  auto session = std::make_unique<VizSession>();
  models::LoadedCheckpoint loaded = models::load_checkpoint(checkpoint, s.model, parse_set_options(s.set), true);
  session->model = loaded.model;
  session->model.net->to(device);
  session->model.net->eval();
  models::DataConfig dc;
  dc.dataset = dataset.empty() ? "fashion-mnist" : dataset;
  dc.dir = data_dir;
  dc.max_train = s.load_train ? s.max_train : 1;  // most visualizations read only the test split
  dc.max_test = s.max_test;
  if (!image_size.empty()) dc.image_size = std::stoll(image_size);
  session->data = models::load_dataset(dc, device, session->model.input_shape);
  CS_CHECK(static_cast<int>(session->data.class_names.size()) == session->model.classes,
           "the model has " << session->model.classes << " outputs, the dataset "
                            << session->data.class_names.size() << " classes");
  make_directories(out);
  session->context.model = &session->model;
  session->context.data = &session->data;
  session->context.run_dir = out;
  session->context.device = device;
  return session;
}

}  // namespace cs::cli
