// Broadcasts, reductions along axes and row-wise selections that the layers,
// training loop and visualizations need. Deterministic on every device.
#pragma once

#include <vector>

#include "kernels/common.h"

namespace cs::kernels {

// y (N, C, ...) += bias (C), broadcast over N and the trailing dimensions.
// Works for (N, C) (linear layers) and (N, C, H, W) (convolutions).
void add_channel_bias(Tensor& y, const Tensor& bias);
// out (C) = sum of x (N, C, ...) over every dimension but 1.
void channel_sum(const Tensor& x, Tensor& out);

// out = sum of x over `axis`; out's shape is x's without that axis (or with
// it set to 1: both accepted, only numel is checked).
void sum_axis(const Tensor& x, int axis, Tensor& out);
void mean_axis(const Tensor& x, int axis, Tensor& out);
// out (N, H, W) or (N, 1, H, W) = max over channels of x (N, C, H, W).
void max_over_channels(const Tensor& x, Tensor& out);
// out (1) = sqrt(sum of x^2).
void l2_norm(const Tensor& x, Tensor& out);

// x (N, K) -> out (N) int32: the index of each row's maximum (first on ties).
void argmax_rows(const Tensor& x, Tensor& out);
// x (N, K) -> values (N, k), indices (N, k) int32: each row's k largest,
// descending; ties go to the lower index. 1 <= k <= K.
void topk_rows(const Tensor& x, int k, Tensor& values, Tensor& indices);

// out (B, ...) = x (N, ...) rows at `indices` (B) int32; any dtype (f32, f64,
// i32, u8), out of the same dtype. Indices must lie in [0, N): CPU indices are
// always checked (an error names the bad index and its position); GPU indices
// only with device checks on (below). Without them a GPU index outside [0, N)
// never reads out of bounds: its output row is filled with zero bytes.
void gather_rows(const Tensor& x, const Tensor& indices, Tensor& out);
// out (f32) = (x (u8) / 255 - mean[c]) / std[c]: images to network inputs.
// x: (N, C, ...) uint8; mean and std hold C values, or one for every channel.
void u8_to_float_normalized(const Tensor& x, const std::vector<float>& mean,
                            const std::vector<float>& std, Tensor& out);

// ---- device checks -----------------------------------------------------------------
// Indices and labels that live on the GPU (gather_rows, the cross-entropy
// labels) are not read back by default: that would stall the stream on every
// call. With device checks on, the dispatchers copy them to the host and check
// them exactly as they check CPU ones (same error message), at the cost of a
// synchronisation per call. Off by default; on when the environment variable
// CONVSCOPE_DEVICE_CHECKS is set to 1 at start-up, or after set_device_checks(true).
void set_device_checks(bool on);
bool device_checks();

// ---- dispatch -------------------------------------------------------------------------

// A tensor seen as (outer, axis, inner) around one dimension.
struct AxisView {
  int64_t outer = 1, size = 1, inner = 1;
};
AxisView axis_view(const Shape& shape, int axis);

struct TensorOpsImpl {
  void (*add_channel_bias)(Tensor& y, const Tensor& bias, const AxisView& v);
  void (*sum_axis)(const Tensor& x, const AxisView& v, double scale, Tensor& out);
  void (*max_over_channels)(const Tensor& x, Tensor& out);
  void (*l2_norm)(const Tensor& x, Tensor& out);
  void (*argmax_rows)(const Tensor& x, Tensor& out);
  void (*topk_rows)(const Tensor& x, int k, Tensor& values, Tensor& indices);
  void (*gather_rows)(const Tensor& x, const Tensor& indices, Tensor& out);
  void (*u8_to_float)(const Tensor& x, const std::vector<float>& mean,
                      const std::vector<float>& std, Tensor& out);
};
OpRegistry<TensorOpsImpl>& tensor_ops_registry();

}  // namespace cs::kernels
