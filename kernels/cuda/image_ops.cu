// Image operations on the GPU: one thread per output element (gathers, so
// nothing is written twice); the TV loss reduces its per-pixel terms with the
// deterministic sum.
#include "kernels/image_ops.h"
#include "kernels/reduce.h"
#include "runtime/cuda/cuda_context.cuh"

namespace cs::kernels {
namespace {

constexpr int kThreads = 256;

#define CS_GRID_STRIDE_LOOP(i, n)                                                         \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

__device__ __forceinline__ int64_t wrap(int64_t i, int64_t n) { return ((i % n) + n) % n; }

__global__ void roll_kernel(const float* x, float* out, int64_t total, int64_t H, int64_t W,
                            int64_t dy, int64_t dx) {
  CS_GRID_STRIDE_LOOP(i, total) {
    const int64_t w = i % W, h = (i / W) % H, plane = i / (H * W);
    out[i] = x[(plane * H + wrap(h - dy, H)) * W + wrap(w - dx, W)];
  }
}

__global__ void occlude_kernel(const float* image, const float* fill, float* out, int64_t total,
                               int64_t chw, int64_t H, int64_t W, int64_t cols, int window,
                               int stride, int64_t first) {
  CS_GRID_STRIDE_LOOP(i, total) {
    const int64_t copy = first + i / chw, j = i % chw;
    const int64_t w = j % W, h = (j / W) % H;
    const int64_t top = (copy / cols) * stride, left = (copy % cols) * stride;
    const bool inside = h >= top && h < top + window && w >= left && w < left + window;
    out[i] = inside ? fill[j] : image[j];
  }
}

__global__ void crop_flip_kernel(const uint8_t* in, const int32_t* params, uint8_t* out, int64_t total,
                                 int64_t c, int64_t h, int64_t w, int64_t H, int64_t W) {
  CS_GRID_STRIDE_LOOP(i, total) {
    const int64_t x = i % w, y = (i / w) % h, ch = (i / (w * h)) % c, n = i / (w * h * c);
    const int32_t* p = params + n * 3;
    const int64_t sx = p[2] ? w - 1 - x : x;
    out[i] = in[((n * c + ch) * H + p[0] + y) * W + p[1] + sx];
  }
}

__global__ void tv_terms_kernel(const float* x, float* terms, int64_t total, int64_t H, int64_t W) {
  CS_GRID_STRIDE_LOOP(i, total) {
    const int64_t w = i % W, h = (i / W) % H;
    const float v = x[i];
    float t = 0.0f;
    if (h + 1 < H) {
      const float d = x[i + W] - v;
      t += d * d;
    }
    if (w + 1 < W) {
      const float d = x[i + 1] - v;
      t += d * d;
    }
    terms[i] = t;
  }
}

__global__ void tv_backward_kernel(const float* x, const float* gloss, float* gx, int64_t total,
                                   int64_t H, int64_t W) {
  const float g = gloss[0];
  CS_GRID_STRIDE_LOOP(i, total) {
    const int64_t w = i % W, h = (i / W) % H;
    const float v = x[i];
    float d = 0.0f;
    if (h > 0) d += 2.0f * (v - x[i - W]);
    if (w > 0) d += 2.0f * (v - x[i - 1]);
    if (h + 1 < H) d -= 2.0f * (x[i + W] - v);
    if (w + 1 < W) d -= 2.0f * (x[i + 1] - v);
    gx[i] = g * d;
  }
}

cudaStream_t prepare(const Tensor& t) {
  cuda::set_device(t.device().index);
  return cuda::current_stream(t.device().index);
}

void cuda_roll2d(const Tensor& x, int64_t dy, int64_t dx, Tensor& out) {
  const int64_t n = x.numel();
  cuda::launch(roll_kernel, cuda::grid_for(n, kThreads), kThreads, 0, prepare(x), x.data<float>(),
               out.data<float>(), n, x.dim(2), x.dim(3), dy, dx);
  CS_CUDA_CHECK_LAUNCH("roll_kernel");
}

void cuda_occlude(const Tensor& image, const Tensor& fill, const OcclusionGrid& g, int64_t first,
                  Tensor& out) {
  const int64_t n = out.numel();
  const int64_t cols = OcclusionGrid::positions(image.dim(2), g.stride);
  cuda::launch(occlude_kernel, cuda::grid_for(n, kThreads), kThreads, 0, prepare(image),
               image.data<float>(), fill.data<float>(), out.data<float>(), n, image.numel(),
               image.dim(1), image.dim(2), cols, g.window, g.stride, first);
  CS_CUDA_CHECK_LAUNCH("occlude_kernel");
}

void cuda_crop_flip(const Tensor& images, const Tensor& params, Tensor& out) {
  const int64_t n = out.numel();
  cuda::launch(crop_flip_kernel, cuda::grid_for(n, kThreads), kThreads, 0, prepare(images),
               images.data<uint8_t>(), params.data<int32_t>(), out.data<uint8_t>(), n, out.dim(1),
               out.dim(2), out.dim(3), images.dim(2), images.dim(3));
  CS_CUDA_CHECK_LAUNCH("crop_flip_kernel");
}

void cuda_tv_forward(const Tensor& x, Tensor& loss) {
  const int64_t n = x.numel();
  if (n == 0) {
    loss.zero_();
    return;
  }
  Tensor terms = Tensor::empty({n}, x.device());
  cuda::launch(tv_terms_kernel, cuda::grid_for(n, kThreads), kThreads, 0, prepare(x),
               x.data<float>(), terms.data<float>(), n, x.dim(2), x.dim(3));
  CS_CUDA_CHECK_LAUNCH("tv_terms_kernel");
  sum_all(terms, loss);
}

void cuda_tv_backward(const Tensor& x, const Tensor& gloss, Tensor& gx) {
  const int64_t n = x.numel();
  cuda::launch(tv_backward_kernel, cuda::grid_for(n, kThreads), kThreads, 0, prepare(x),
               x.data<float>(), gloss.data<float>(), gx.data<float>(), n, x.dim(2), x.dim(3));
  CS_CUDA_CHECK_LAUNCH("tv_backward_kernel");
}

}  // namespace

CS_REGISTER_OP(image_ops_registry, DeviceType::CUDA,
               (ImageOpsImpl{&cuda_roll2d, &cuda_occlude, &cuda_crop_flip, &cuda_tv_forward,
                             &cuda_tv_backward}))

}  // namespace cs::kernels
