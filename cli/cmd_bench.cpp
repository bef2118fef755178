// convscope bench [kernels|train]: runs the benchmark suites and prints one
// readable table (op, implementation, shape, time, throughput, reference,
// ratio, percent of peak); writes it as JSON (with Google Benchmark's raw
// output inside) and Markdown.
//
// The suites live in the convscope_bench executable (bench/), which alone
// links cuBLAS and cuDNN; this command runs it as a child process (found next
// to this binary, in ../bench/ of a build tree, through --bench-binary or
// $CONVSCOPE_BENCH, else on PATH) and reads its JSON. Running it rather than
// linking the suites in keeps the vendor libraries out of `convscope`, and a
// crash inside a vendor library cannot take this process down with it.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cli/commands.h"
#include "runtime/file_io.h"

namespace cs::cli {
namespace {

using json = nlohmann::json;

struct BenchOptions {
  std::string kind;  // "", "kernels" or "train"
  std::string filter;
  double min_time = 0.1;
  std::string out;
  std::string binary;
  bool verbose = false;
};

// ---- running convscope_bench --------------------------------------------------------------

std::string self_dir() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return ".";
  path[n] = '\0';
  std::string s(path);
  return s.substr(0, s.find_last_of('/'));
}

bool is_executable(const std::string& path) { return !path.empty() && access(path.c_str(), X_OK) == 0; }

std::string find_bench_binary(const std::string& given) {
  if (!given.empty()) {
    CS_CHECK(is_executable(given), "--bench-binary: '" << given << "' is not an executable file");
    return given;
  }
  if (const char* env = std::getenv("CONVSCOPE_BENCH"); env && *env) {
    CS_CHECK(is_executable(env), "$CONVSCOPE_BENCH: '" << env << "' is not an executable file");
    return env;
  }
  const std::string dir = self_dir();
  for (const std::string& candidate : {dir + "/convscope_bench", dir + "/../bench/convscope_bench"})
    if (is_executable(candidate)) return candidate;
  return "convscope_bench";  // execvp searches PATH; a miss is reported by run_child
}

// Runs argv, sending its output (stdout and stderr) line by line to
// `on_line`; returns the exit status.
int run_child(const std::vector<std::string>& args, const std::function<void(const std::string&)>& on_line) {
  int fds[2];
  CS_CHECK(pipe(fds) == 0, "cannot create a pipe: " << std::strerror(errno));
  const pid_t pid = fork();
  CS_CHECK(pid >= 0, "cannot start " << args[0] << ": " << std::strerror(errno));
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "convscope_bench not found or not runnable (%s): %s\n", args[0].c_str(),
                 std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  std::string pending;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    for (size_t eol; (eol = pending.find('\n')) != std::string::npos;) {
      on_line(pending.substr(0, eol));
      pending.erase(0, eol + 1);
    }
  }
  if (!pending.empty()) on_line(pending);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// Google Benchmark's --benchmark_filter is a POSIX extended regex (no
// lookaheads) that may be negated with a leading '-'. A kind alone becomes
// such a filter; a kind with --filter runs the --filter rows and keeps
// those of the kind (in_kind()).
const char* kTrainRows = "^BM_(Train|Infer)/";

bool in_kind(const std::string& name, const std::string& kind) {
  if (kind.empty()) return true;
  static const std::regex train(kTrainRows, std::regex::extended);
  return std::regex_search(name, train) == (kind == "train");
}

std::string bench_filter(const BenchOptions& o) {
  if (!o.filter.empty()) return o.filter;
  if (o.kind == "train") return kTrainRows;
  if (o.kind == "kernels") return std::string("-") + kTrainRows;
  return ".";
}

// ---- the table ------------------------------------------------------------------------------

struct Row {
  std::string name, op, impl, shape, label, error;
  double ms = NAN, ref_ms = NAN, ratio = NAN, pct_peak = NAN;
  double value = NAN;  // throughput
  std::string unit;    // "TFLOP/s", "GB/s", "img/s"
  double epoch_s = NAN;
};

double number(const json& b, const char* key) {
  auto it = b.find(key);
  return it != b.end() && it->is_number() ? it->get<double>() : NAN;
}

double to_ms(double t, const std::string& unit) {
  if (unit == "ns") return t * 1e-6;
  if (unit == "us") return t * 1e-3;
  if (unit == "s") return t * 1e3;
  return t;
}

// "BM_ConvFwd/cuda:implicit_gemm/alexnet_conv1_..." -> op, impl, shape; the
// GEMM rows (BM_GemmCuda/<variant>/<shape>, BM_CublasSgemm/<shape>, ...) and
// the end-to-end rows (BM_Train/<model>/n<batch>/<dev>) and the visualization
// rows (BM_Viz/<technique>/<workload>/<dev>) are spelled differently.
void split_name(Row& r) {
  std::vector<std::string> parts;
  std::stringstream in(r.name);
  for (std::string p; std::getline(in, p, '/');) {
    static const std::regex suffix("^(iterations|min_time|repeats|threads):.*|^(manual|real)_time$");
    if (!std::regex_match(p, suffix)) parts.push_back(p);
  }
  if (parts.empty()) return;
  std::string family = parts[0].rfind("BM_", 0) == 0 ? parts[0].substr(3) : parts[0];
  auto rest = [&](size_t from, size_t to) {
    std::string s;
    for (size_t i = from; i < to && i < parts.size(); ++i) s += (s.empty() ? "" : "/") + parts[i];
    return s;
  };
  if (family == "GemmCuda" && parts.size() >= 3) {
    r.op = "Gemm", r.impl = "cuda:" + parts[1], r.shape = rest(2, parts.size());
  } else if (family == "CublasSgemm" || family == "CublasTf32" || family == "GemmCpu") {
    r.op = "Gemm";
    r.impl = family == "CublasSgemm" ? "cublas" : family == "CublasTf32" ? "cublas_tf32" : "cpu";
    r.shape = rest(1, parts.size());
  } else if ((family == "Train" || family == "Infer") && parts.size() >= 4) {
    r.op = family, r.impl = parts.back(), r.shape = rest(1, parts.size() - 1);
  } else if (family == "Viz" && parts.size() >= 4) {  // BM_Viz/<technique>/<workload...>/<dev>
    r.op = "Viz:" + parts[1], r.impl = parts.back(), r.shape = rest(2, parts.size() - 1);
  } else {
    r.op = family, r.impl = parts.size() > 1 ? parts[1] : "", r.shape = rest(2, parts.size());
  }
}

Row make_row(const json& b) {
  Row r;
  r.name = b.value("name", "");
  split_name(r);
  r.label = b.value("label", "");
  if (b.value("error_occurred", false)) r.error = b.value("error_message", "error");
  r.ms = number(b, "median_ms");
  if (std::isnan(r.ms)) r.ms = to_ms(number(b, "real_time"), b.value("time_unit", "ns"));
  r.ref_ms = number(b, "ref_ms");
  r.ratio = number(b, "ratio");
  if (std::isnan(r.ratio)) r.ratio = number(b, "ratio_vs_cublas");
  r.pct_peak = number(b, "pct_peak");
  if (!std::isnan(number(b, "step_ms"))) {
    r.ms = number(b, "step_ms");
    r.value = number(b, "images_per_s"), r.unit = "img/s";
    r.epoch_s = number(b, "epoch_s");
  } else if (!std::isnan(number(b, "TFLOP/s"))) {
    r.value = number(b, "TFLOP/s"), r.unit = "TFLOP/s";
  } else if (!std::isnan(number(b, "GB/s"))) {
    r.value = number(b, "GB/s"), r.unit = "GB/s";
  } else if (!std::isnan(number(b, "FLOP/s"))) {  // older rows: rate counters over the mean time
    r.value = number(b, "FLOP/s") / 1e12, r.unit = "TFLOP/s";
  } else if (!std::isnan(number(b, "bytes/s"))) {
    r.value = number(b, "bytes/s") / 1e9, r.unit = "GB/s";
  }
  return r;
}

std::string fmt(const char* format, double v) {
  if (std::isnan(v)) return "";
  char text[64];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

std::string throughput(const Row& r) {
  if (std::isnan(r.value)) return "";
  if (r.unit == "TFLOP/s" && r.value < 1) return fmt("%.1f GFLOP/s", r.value * 1e3);
  if (r.unit == "img/s") return fmt("%.0f img/s", r.value) + fmt(", epoch %.2f s", r.epoch_s);
  return fmt(r.unit == "GB/s" ? "%.1f GB/s" : "%.2f TFLOP/s", r.value);
}

std::string time_text(double ms) { return fmt(ms < 0.1 ? "%.4f" : ms < 10 ? "%.3f" : "%.1f", ms); }

const std::vector<std::string> kHeader = {"op", "impl", "shape", "ms", "throughput",
                                          "ref ms", "ratio", "% peak", "reference / note"};

std::vector<std::string> cells(const Row& r) {
  return {r.op, r.impl, r.shape, time_text(r.ms), throughput(r), time_text(r.ref_ms),
          fmt("%.2fx", r.ratio), fmt("%.1f", r.pct_peak), r.label};
}

std::string text_table(const std::vector<Row>& rows) {
  std::vector<size_t> width(kHeader.size());
  std::vector<std::vector<std::string>> all = {kHeader};
  for (const Row& r : rows) all.push_back(cells(r));
  for (const auto& c : all)
    for (size_t i = 0; i < c.size(); ++i) width[i] = std::max(width[i], c[i].size());
  std::ostringstream out;
  for (size_t line = 0; line < all.size(); ++line) {
    std::string text;
    for (size_t i = 0; i < all[line].size(); ++i) {
      const bool right = i >= 3 && i <= 7;  // numbers
      const std::string& s = all[line][i];
      const std::string pad(width[i] - s.size(), ' ');
      text += (i ? "  " : "") + (right ? pad + s : s + pad);
    }
    out << text.substr(0, text.find_last_not_of(' ') + 1) << "\n";
    if (line == 0) {
      size_t total = 0;
      for (size_t w : width) total += w + 2;
      out << std::string(total - 2, '-') << "\n";
    }
  }
  return out.str();
}

std::string markdown_table(const std::vector<Row>& rows) {
  std::ostringstream out;
  out << "|";
  for (const std::string& h : kHeader) out << " " << h << " |";
  out << "\n|";
  for (size_t i = 0; i < kHeader.size(); ++i) out << (i >= 3 && i <= 7 ? "---:|" : "---|");
  out << "\n";
  for (const Row& r : rows) {
    out << "|";
    for (const std::string& c : cells(r)) out << " " << c << " |";
    out << "\n";
  }
  return out.str();
}

json row_json(const Row& r) {
  auto num = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
  return json{{"name", r.name},           {"op", r.op},         {"impl", r.impl},
              {"shape", r.shape},         {"ms", num(r.ms)},    {"throughput", num(r.value)},
              {"unit", r.unit},           {"ref_ms", num(r.ref_ms)}, {"ratio", num(r.ratio)},
              {"pct_peak", num(r.pct_peak)}, {"epoch_s", num(r.epoch_s)}, {"label", r.label}};
}

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", std::localtime(&now));
  return text;
}

// ---- the command ----------------------------------------------------------------------------

int run_bench(const BenchOptions& o) {
  const std::string binary = find_bench_binary(o.binary);
  const std::string out = o.out.empty() ? "runs/bench-" + timestamp() + ".json" : o.out;
  CS_CHECK(out.size() > 5 && out.substr(out.size() - 5) == ".json",
           "--out: expected a file name ending in .json, got '" << out << "'");
  CS_CHECK(!file_exists(out), "--out: " << out << " already exists; choose another file");
  const std::string stem = out.substr(0, out.size() - 5);
  if (const size_t slash = out.find_last_of('/'); slash != std::string::npos && slash > 0)
    make_directories(out.substr(0, slash));
  const std::string filter = bench_filter(o);

  // Which rows match (fast: nothing runs).
  std::vector<std::string> names;
  std::string problem;
  const int list_status = run_child({binary, "--benchmark_list_tests=true", "--benchmark_filter=" + filter},
                                    [&](const std::string& line) {
                                      if (line.rfind("BM_", 0) != 0) problem += line;
                                      else if (in_kind(line, o.kind)) names.push_back(line);
                                    });
  CS_CHECK(list_status == 0 && problem.empty(),
           (problem.find("regular expression") != std::string::npos ? "--filter '" + o.filter + "': " : binary + ": ")
               << (problem.empty() ? "exit status " + std::to_string(list_status) : problem));
  CS_CHECK(!names.empty(), "no benchmark matches --filter '" << o.filter << "'"
                                                             << (o.kind.empty() ? "" : " among the " + o.kind + " rows"));
  std::printf("running %zu benchmarks with %s (%.3g s of timing per row; log %s.log)\n", names.size(),
              binary.c_str(), o.min_time, stem.c_str());
  std::fflush(stdout);

  const std::string raw_path = stem + ".gbench.json.tmp";
  std::ofstream log(stem + ".log");
  size_t done = 0;
  const bool tty = isatty(STDOUT_FILENO);
  const int status = run_child(
      {binary, "--benchmark_filter=" + filter, "--benchmark_min_time=" + fmt("%g", o.min_time),
       "--benchmark_format=console", "--benchmark_out=" + raw_path, "--benchmark_out_format=json"},
      [&](const std::string& line) {
        log << line << "\n";
        if (o.verbose) std::printf("%s\n", line.c_str());
        if (line.rfind("BM_", 0) == 0) {
          ++done;
          if (tty && !o.verbose) {
            std::printf("\r  %zu/%zu %-100.100s", done, names.size(), line.substr(0, line.find(' ')).c_str());
            std::fflush(stdout);
          }
        }
      });
  log.close();
  if (tty && !o.verbose) std::printf("\r%s\r", std::string(120, ' ').c_str());
  CS_CHECK(status == 0 && file_exists(raw_path),
           binary << " failed (exit " << status << "); its output is in " << stem << ".log");

  json raw;
  try {
    raw = json::parse(read_file_text(raw_path));
  } catch (const json::exception& e) {
    CS_FAIL(raw_path << " is not Google Benchmark JSON: " << e.what());
  }
  std::remove(raw_path.c_str());

  std::vector<Row> rows;
  std::map<std::string, int> skipped;
  std::map<std::string, double> peaks;
  for (const json& b : raw.value("benchmarks", json::array())) {
    if (b.value("run_type", "iteration") != "iteration") continue;
    Row r = make_row(b);
    if (!in_kind(r.name, o.kind)) continue;
    if (!r.error.empty()) {
      ++skipped[r.error];
    } else if (r.op == "Peak") {
      peaks[r.impl] = r.value;
    } else {
      rows.push_back(r);
    }
  }

  std::ostringstream head;
  const json& ctx = raw.value("context", json::object());
  head << "convscope bench " << (o.kind.empty() ? "(all)" : o.kind) << "  " << ctx.value("date", "") << "  host "
       << ctx.value("host_name", "") << "  gpu " << ctx.value("gpu", std::string("none")) << "\n";
  if (!peaks.empty()) {
    head << "peaks measured in this run:";
    for (const auto& [name, value] : peaks) head << "  " << name << " " << fmt(name == "copy_d2d" ? "%.0f GB/s" : "%.1f TFLOP/s", value);
    head << "\n";
  }
  head << "ms: median time of one call (end-to-end: one step); ratio: reference time / ours "
          "(> 1: convscope faster); % peak: of the measured copy bandwidth or cuBLAS SGEMM rate\n";
  std::ostringstream tail;
  for (const auto& [message, count] : skipped) tail << count << " rows skipped: " << message << "\n";

  std::printf("%s\n%s%s", head.str().c_str(), text_table(rows).c_str(), tail.str().c_str());
  json result;
  result["command"] = "convscope bench";
  result["kind"] = o.kind.empty() ? "all" : o.kind;
  result["filter"] = filter;
  result["min_time_s"] = o.min_time;
  result["context"] = ctx;
  result["peaks"] = peaks;
  result["rows"] = json::array();
  for (const Row& r : rows) result["rows"].push_back(row_json(r));
  result["skipped"] = skipped;
  result["benchmarks"] = raw.value("benchmarks", json::array());
  write_file_atomic(out, result.dump(1) + "\n");
  std::string md = "```\n" + head.str() + "```\n\n" + markdown_table(rows) + "\n" + tail.str();
  write_file_atomic(stem + ".md", md);
  std::printf("wrote %s, %s.md and %s.log\n", out.c_str(), stem.c_str(), stem.c_str());
  return 0;
}

}  // namespace

void register_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "bench",
      "Benchmark convscope's kernels against cuBLAS/cuDNN and whole models (runs convscope_bench);\n"
      "prints a table and writes FILE.json, FILE.md and FILE.log. Without a GPU the CPU rows run\n"
      "and the GPU rows are listed as skipped.");
  auto o = std::make_shared<BenchOptions>();
  cmd->add_option("--filter", o->filter,
                  "Only rows whose name matches this POSIX extended regex (Google Benchmark's; a leading '-' "
                  "negates it), e.g. 'Conv.*alexnet' (default: all)");
  cmd->add_option("--min-time", o->min_time, "Seconds of timed calls per row (passed as --benchmark_min_time)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", o->out, "Results file (default: runs/bench-<date>-<time>.json); FILE.md and FILE.log beside it");
  cmd->add_option("--bench-binary", o->binary,
                  "The convscope_bench executable (default: $CONVSCOPE_BENCH, next to convscope, ../bench/, PATH)");
  cmd->add_flag("--verbose,-v", o->verbose, "Show Google Benchmark's own output as it runs");
  cmd->fallthrough();
  set_action(cmd, [o] { return run_bench(*o); });
  for (const char* kind : {"kernels", "train"}) {
    auto* sub = cmd->add_subcommand(kind, std::string(kind) == "kernels"
                                              ? "Only the kernel rows (conv, GEMM, pooling, norms, softmax, dropout, peaks)"
                                              : "Only the end-to-end rows (training steps and inference of whole models)");
    sub->fallthrough();
    set_action(sub, [o, kind] {
      BenchOptions k = *o;
      k.kind = kind;
      return run_bench(k);
    });
  }
}

}  // namespace cs::cli
