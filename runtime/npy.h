// NumPy .npy files: the raw numbers behind every picture, for anyone who
// wants to plot them elsewhere (np.load reads them directly).
//
// A file is the magic "\x93NUMPY", a version (major, minor), a little-endian
// header length (2 bytes in version 1.0, 4 in 2.0 and 3.0), a Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded
// with spaces and ended by '\n' so the data starts at a multiple of 64, then
// the elements.
#pragma once

#include <string>

#include "runtime/tensor.h"

namespace cs {

// Writes a tensor (any device) in C order: f32 as '<f4', f64 '<f8', i32
// '<i4', u8 '|u1'. Version 1.0 (2.0 only when the header would not fit),
// written atomically.
void save_npy(const std::string& path, const Tensor& tensor);

// Reads versions 1.0, 2.0 and 3.0 into a CPU tensor, validating the magic,
// the header dict (exactly the keys descr, fortran_order, shape) and that
// the data is exactly as long as the shape says. Element types: f4, f8, i4,
// u1 as they are; f2 to f32; i8 to i32 (range-checked); b1 to u8; either
// byte order; Fortran-ordered arrays are reordered to C order. Anything
// else is an error naming the file and what was expected.
Tensor load_npy(const std::string& path);

}  // namespace cs
