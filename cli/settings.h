// Shared command-line pieces: --set key=value collection and flag-to-setting
// merging, so every command spells hyperparameters the same way.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

namespace cs::cli {

// Parses ["lr=0.1", "dropout=0.2"] into a map; throws on malformed entries.
std::map<std::string, std::string> parse_set_options(const std::vector<std::string>& entries);

// Adds `value` for `key` unless empty; a key given twice (flag and --set) is an error.
void merge_setting(std::map<std::string, std::string>& settings, const std::string& key,
                   const std::string& value, const std::string& flag);

}  // namespace cs::cli
