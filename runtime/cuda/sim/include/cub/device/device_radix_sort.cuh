// The simulated device's CUB radix sort: a stable sort by the key bits
// [begin_bit, end_bit) on the CPU, in stream order, with CUB's two-call
// temporary-storage protocol (runtime/cuda/sim/libraries.cpp).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace cs::sim {
cudaError_t radix_sort_pairs_u32(void* temp, size_t& temp_bytes, const uint32_t* keys_in, uint32_t* keys_out,
                                 const int32_t* values_in, int32_t* values_out, int count, int begin_bit,
                                 int end_bit, cudaStream_t stream);
}

namespace cub {
struct DeviceRadixSort {
  template <typename Key, typename Value>
  static cudaError_t SortPairs(void* temp, size_t& temp_bytes, const Key* keys_in, Key* keys_out,
                               const Value* values_in, Value* values_out, int count, int begin_bit = 0,
                               int end_bit = static_cast<int>(sizeof(Key) * 8), cudaStream_t stream = nullptr) {
    static_assert(sizeof(Key) == 4 && sizeof(Value) == 4, "the simulator sorts 32-bit keys and values");
    return ::cs::sim::radix_sort_pairs_u32(
        temp, temp_bytes, reinterpret_cast<const uint32_t*>(keys_in), reinterpret_cast<uint32_t*>(keys_out),
        reinterpret_cast<const int32_t*>(values_in), reinterpret_cast<int32_t*>(values_out), count, begin_bit,
        end_bit, stream);
  }
};
}  // namespace cub
