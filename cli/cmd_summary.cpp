// convscope summary: the layer table of a model.
#include <iostream>

#include "cli/commands.h"
#include "cli/settings.h"
#include "models/summary.h"

namespace cs::cli {

void register_summary(CLI::App& app) {
  auto* cmd = app.add_subcommand("summary", "Print a model's layers: output shapes, parameters, FLOPs");
  struct Options {
    std::string model = "fashion-cnn";
    std::vector<std::string> set;
  };
  auto opts = std::make_shared<Options>();
  cmd->add_option("--model,-m", opts->model, "Built-in model (fashion-cnn, alexnet, alexnet-2012, zfnet) or net-spec file")
      ->capture_default_str();
  cmd->add_option("--set", opts->set, "Override a model param: --set key=value (repeatable)");
  set_action(cmd, [opts] {
    models::NetSpec spec = models::load_net_spec(opts->model);
    const std::vector<std::string> unknown =
        models::apply_overrides(spec, parse_set_options(opts->set));
    CS_CHECK(unknown.empty(), "unknown model param '" << unknown.front() << "' for " << spec.name);
    models::Model model = models::build_model(spec, 0);
    std::cout << models::format_summary(models::summarize(model), spec.name);
    if (!spec.param_order.empty()) {
      std::cout << "params:";
      for (const std::string& p : spec.param_order) std::cout << " " << p << "=" << spec.params.at(p);
      std::cout << "  (change with --set key=value)\n";
    }
    return 0;
  });
}

}  // namespace cs::cli
