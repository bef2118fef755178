#include "bench/reference.h"

#include <exception>
#include <map>
#include <mutex>

namespace cs::bench {
namespace {

struct Entry {
  ReferenceFn measure;
  bool measured = false;
  ReferenceResult result;
  std::string error;
};

std::map<std::string, Entry>& table() {
  static auto* t = new std::map<std::string, Entry>;  // numbers only; never freed
  return *t;
}
std::mutex& table_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

void add_reference(const std::string& key, ReferenceFn measure) {
  std::lock_guard<std::mutex> lock(table_mutex());
  table()[key].measure = std::move(measure);
}

void record_reference(const std::string& key, const ReferenceResult& result) {
  std::lock_guard<std::mutex> lock(table_mutex());
  Entry& e = table()[key];
  e.measured = true;
  e.result = result;
}

void report_vs_reference(benchmark::State& state, const std::string& key, double our_ms) {
  Entry* e = nullptr;
  {
    std::lock_guard<std::mutex> lock(table_mutex());
    auto it = table().find(key);
    if (it == table().end()) return;
    e = &it->second;
  }
  if (!e->measured && e->error.empty() && e->measure) {
    try {
      e->result = e->measure();
      e->measured = true;
    } catch (const std::exception& ex) {
      e->error = ex.what();
    }
  }
  if (!e->measured) {
    state.SetLabel("reference failed: " + e->error);
    return;
  }
  state.counters["ref_ms"] = e->result.ms;
  if (our_ms > 0) state.counters["ratio"] = e->result.ms / our_ms;
  state.SetLabel("vs " + e->result.what);
}

}  // namespace cs::bench
