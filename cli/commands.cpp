#include "cli/commands.h"

#include <map>

#include "runtime/error.h"

namespace cs::cli {

namespace {
std::map<CLI::App*, CommandAction>& actions() {
  static std::map<CLI::App*, CommandAction> table;
  return table;
}
}  // namespace

void set_action(CLI::App* command, CommandAction action) { actions()[command] = std::move(action); }

void register_all_commands(CLI::App& app) {
  register_train(app);
  register_eval(app);
  register_viz(app);
  register_report(app);
  register_predict(app);
  register_summary(app);
  register_gradients(app);
  register_bench(app);
  register_info(app);
}

int run_selected_command(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands()) {
    // Nested commands (viz NAME, bench KIND) resolve to their deepest parsed level.
    CLI::App* leaf = sub;
    while (!leaf->get_subcommands().empty()) leaf = leaf->get_subcommands().front();
    auto it = actions().find(leaf);
    CS_CHECK(it != actions().end(), "command '" << leaf->get_name() << "' has no action");
    return it->second();
  }
  CS_FAIL("no command given: try convscope --help");
}

}  // namespace cs::cli
