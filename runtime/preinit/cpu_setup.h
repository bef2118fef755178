// Process setup shared by convscope's executables (not part of the library).
#pragma once

namespace cs {

// OpenBLAS 0.3.21 (Debian 12) picks its CPU kernels from the CPU model
// number when it loads, and falls back to its slowest generic kernels
// (Prescott, SSE3) on processors newer than it knows - which is what virtual
// machines often report. When OPENBLAS_CORETYPE is unset, this picks the
// kernels from the instruction sets the CPU has, sets the variable and
// restarts the program once (OpenBLAS only reads it at load time). Call it
// first thing in main().
void select_cpu_kernels(int argc, char** argv);

}  // namespace cs
