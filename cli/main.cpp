// convscope: the command line. Library code throws cs::Error; this is the one
// place that turns exceptions into messages and exit codes.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "runtime/build_info.h"
#include "runtime/error.h"
#include "runtime/preinit/cpu_setup.h"

int main(int argc, char** argv) {
  cs::select_cpu_kernels(argc, argv);
  CLI::App app{"convscope: train CNNs on hand-written CUDA kernels and see inside them", "convscope"};
  app.set_version_flag("--version", "convscope " + cs::build_info().version);
  app.require_subcommand(1);
  app.fallthrough();
  cs::cli::register_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // Bad flags: one line, like every other error.
    std::cerr << "convscope: error: " << e.what() << " (see convscope --help)\n";
    return e.get_exit_code();
  } catch (const cs::Error& e) {
    std::cerr << "convscope: error: " << e.message() << "\n";
    return 1;
  }
  try {
    return cs::cli::run_selected_command(app);
  } catch (const cs::Error& e) {
    std::cerr << "convscope: error: " << e.message() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "convscope: error: " << e.what() << "\n";
    return 1;
  }
}
