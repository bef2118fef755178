#include "cli/settings.h"

#include "runtime/error.h"

namespace cs::cli {

std::map<std::string, std::string> parse_set_options(const std::vector<std::string>& entries) {
  std::map<std::string, std::string> out;
  for (const std::string& e : entries) {
    const size_t eq = e.find('=');
    CS_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < e.size(),
             "--set expects key=value, got '" << e << "'");
    const std::string key = e.substr(0, eq);
    CS_CHECK(!out.count(key), "--set " << key << " given twice");
    out[key] = e.substr(eq + 1);
  }
  return out;
}

void merge_setting(std::map<std::string, std::string>& settings, const std::string& key,
                   const std::string& value, const std::string& flag) {
  if (value.empty()) return;
  CS_CHECK(!settings.count(key), flag << " and --set " << key << " both given");
  settings[key] = value;
}

}  // namespace cs::cli
