// The vendor reference of each benchmark case, for the ratio on our rows.
//
// Reference rows (cuDNN, in bench/cuda/, compiled only when cuDNN is found)
// register a measurement per case key ("ConvFwd/alexnet_conv1_b128"); our
// row for the same key asks for it and reports ref_ms and ratio. Each
// reference is measured once per process: by its own row when that ran
// first, else on demand. A build without cuDNN registers none, and our rows
// simply carry no ratio.
#pragma once

#include <benchmark/benchmark.h>

#include <functional>
#include <string>

namespace cs::bench {

struct ReferenceResult {
  double ms = 0;     // median time of one call
  std::string what;  // "cuDNN IMPLICIT_PRECOMP_GEMM (fp32 FMA)"
};
using ReferenceFn = std::function<ReferenceResult()>;

// Called at static initialization by the reference files.
void add_reference(const std::string& key, ReferenceFn measure);
// The reference's own row stores what it measured (so it is not measured twice).
void record_reference(const std::string& key, const ReferenceResult& result);
// Sets ref_ms, ratio (= ref_ms / our_ms) and a label naming the reference on
// our row; does nothing when the key has no reference. A reference that
// fails is named in the label, and our row still stands.
void report_vs_reference(benchmark::State& state, const std::string& key, double our_ms);

}  // namespace cs::bench
