// main() of every test executable: CPU kernel selection, then GoogleTest.
#include <gtest/gtest.h>

#include "runtime/preinit/cpu_setup.h"

int main(int argc, char** argv) {
  cs::select_cpu_kernels(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
