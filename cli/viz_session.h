// A model, its data and an output folder, opened for the `viz` commands:
// either a run folder (--run: its checkpoint, its dataset, pictures into it)
// or a checkpoint and a dataset named on the command line.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "viz/context.h"

namespace cs::cli {

struct VizSource {
  std::string run, checkpoint, model, out, device = "auto", dataset, data;
  std::vector<std::string> set;
  int64_t max_test = 0;
  // Set by commands that read the train split (features --split train):
  // otherwise only one training image is loaded, as nothing else reads them.
  bool load_train = false;
  int64_t max_train = 0;  // with load_train: the first N (0: all)
};

// Adds --run, --checkpoint, --model, --set, --out, --device, --dataset, --data, --max-test.
void add_viz_source_options(CLI::App* cmd, VizSource& source);

struct VizSession {
  models::Model model;
  models::DataSource data;
  viz::VizContext context;
};

std::unique_ptr<VizSession> open_viz_session(const VizSource& source);

}  // namespace cs::cli
