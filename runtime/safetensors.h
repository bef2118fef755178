// safetensors (the format of PyTorch checkpoints on Hugging Face): an 8-byte
// little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value"}}
// then the tensors' bytes. Everything is validated before any data is read.
#pragma once

#include <map>
#include <string>

#include "runtime/tensor.h"

namespace cs {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;  // CPU tensors
  std::map<std::string, std::string> metadata;
};

// Loads F32, F64, I32 and U8 as they are; F16 and BF16 are converted to F32,
// I64 to I32 (range-checked), BOOL to U8. Other dtypes are an error.
SafetensorsFile load_safetensors(const std::string& path);

// Writes f32/f64/i32/u8 tensors (any device), names sorted, atomically.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// IEEE half and bfloat16 to float (exact, including subnormals, inf, NaN).
float half_to_float(uint16_t h);
float bfloat16_to_float(uint16_t b);

}  // namespace cs
