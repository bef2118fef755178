// Element types. Models run in float32; float64 exists for CPU gradient
// checks; int32 holds labels, indices and max-pool switches; uint8 holds
// images and masks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cs {

enum class DType : uint8_t { F32, F64, I32, U8 };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I32: return 4;
    case DType::U8: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::I32: return "i32";
    case DType::U8: return "u8";
  }
  return "?";
}

template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::U8; };
template <typename T> constexpr DType dtype_of = DTypeOf<T>::value;

inline bool is_floating(DType t) { return t == DType::F32 || t == DType::F64; }

}  // namespace cs
