// The subcommands of `convscope`. Each file cli/cmd_*.cpp registers one
// command with a callback; main() runs the one the user chose.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "viz/context.h"

namespace cs::cli {

using CommandAction = std::function<int()>;

// Adds every command to `app`.
void register_all_commands(CLI::App& app);
// Runs the action of the subcommand that was parsed; returns the exit code.
int run_selected_command(CLI::App& app);
// Called by each command's register function.
void set_action(CLI::App* command, CommandAction action);

void register_info(CLI::App& app);
void register_summary(CLI::App& app);
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_predict(CLI::App& app);
void register_gradients(CLI::App& app);
void register_viz(CLI::App& app);
void register_report(CLI::App& app);
void register_bench(CLI::App& app);

// Every visualization of a run with default settings (viz all, and train's pictures).
void write_all_figures(viz::VizContext& context, bool quick);

}  // namespace cs::cli
