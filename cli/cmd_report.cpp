// convscope report RUN_DIR: the run's self-contained report.html.
#include <cstdio>

#include "cli/commands.h"
#include "viz/figures.h"
#include "viz/report.h"

namespace cs::cli {

void register_report(CLI::App& app) {
  auto* cmd = app.add_subcommand("report", "Write RUN_DIR/report.html: config, curves, and every visualization made for the run");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("run", *dir, "A run folder")->required()->check(CLI::ExistingDirectory);
  set_action(cmd, [dir] {
    const std::string path = viz::write_run_report(*dir);
    const std::vector<std::string> missing = viz::missing_report_files(path);
    CS_CHECK(missing.empty(), path << " refers to missing files, e.g. " << missing.front());
    std::printf("wrote %s\n", path.c_str());
    return 0;
  });
}

}  // namespace cs::cli
