// The index arithmetic of the CUDA implicit-GEMM convolutions, as plain
// C++ that compiles for the host and the device: the kernels in conv2d.cu use
// these tile loaders, and a CPU test (tests/kernels/test_conv2d.cpp) runs the
// same loaders through a serial emulation of the kernels, so the gathers are
// checked on machines without a GPU.
//
// Each convolution pass is a GEMM  out (M, Ncols) = A (M, T) * B (T, Ncols)
// whose operands are never stored: a thread block owns a BM x BN tile of
// `out`, and walks the reduction T in steps of BK; at each step every thread
// fetches a few elements of the A tile (BM x BK) and the B tile (BK x BN)
// straight from x, w or gy, with zeros outside the image and past the ends.
//
//   pass             M      Ncols        T              A          B
//   forward          Kg     N*P*Q        Cg*R*S         w          x patches
//   backward-data    Cg     N*Hph*Wph    Kg*nr*ns       w (taps)   gy (gather)
//   backward-weight  Kg     Cg*R*S       N*P*Q (split)  gy         x patches
//
// Backward-data is split by the stride phase (h mod stride_h, w mod stride_w):
// for input rows h = ah + i*stride_h only the taps r with
// (ah + pad_h - r*dilation_h) divisible by stride_h reach an output row, and
// they form an arithmetic progression (PhaseTaps), so no multiply is wasted on
// the zeros a strided transposed convolution would otherwise insert.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define CS_CONV_HD __host__ __device__ __forceinline__
#else
#define CS_CONV_HD inline
#endif

namespace cs::kernels::conv_tiles {

// Sizes of one convolution (int: the launchers check the ranges).
struct ConvGeom {
  int N, C, H, W, K, R, S, P, Q;
  int sh, sw, ph, pw, dh, dw;
  int groups, Cg, Kg;
};

// Tile shape: BM x BN outputs per block, BK reduction steps per stage, TM x TN
// outputs per thread (as TM/4 x TN/4 groups of 4x4, spread so that the
// shared-memory reads of a warp are broadcasts or conflict-free float4s).
template <int BM_, int BN_, int BK_, int TM_, int TN_, int kMinBlocks_ = 1>
struct TileConfig {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
  static constexpr int kThreadsM = BM / TM, kThreadsN = BN / TN;
  static constexpr int kThreads = kThreadsM * kThreadsN;
  static constexpr int kALoads = BM * BK / kThreads;  // A elements each thread fetches per step
  static constexpr int kBLoads = BN * BK / kThreads;
  static constexpr int kLdA = BM + 4, kLdB = BN + 4;  // padded shared-memory rows
  // Resident blocks per SM asked of the compiler: caps registers at
  // 65536 / (kMinBlocks * kThreads) per thread.
  static constexpr int kMinBlocks = kMinBlocks_;
  static_assert(TM % 4 == 0 && TN % 4 == 0, "thread tiles are groups of 4x4");
  static_assert(kThreads % BK == 0 && kThreads % BM == 0 && kThreads % BN == 0,
                "every load layout must cover its tile exactly");
  static_assert(kALoads * kThreads == BM * BK && kBLoads * kThreads == BN * BK, "tile cover");

  // Tile row of accumulator row i of the thread in thread-row ty (likewise columns).
  static CS_CONV_HD int acc_row(int ty, int i) { return (i / 4) * 4 * kThreadsM + ty * 4 + i % 4; }
  static CS_CONV_HD int acc_col(int tx, int j) { return (j / 4) * 4 * kThreadsN + tx * 4 + j % 4; }
};

// The two tile shapes the kernels use (256 threads each; registers capped
// for 3 blocks/SM (<= 85) and 2 blocks/SM (<= 128)).
using SmallTile = TileConfig<64, 64, 8, 4, 4, 3>;    // 4x4 outputs per thread
using LargeTile = TileConfig<128, 128, 8, 8, 8, 2>;  // 8x8 outputs per thread

// Two ways a thread's loads cover a tile of `extent` (BM or BN) x BK:
//  K-fast:  kk = tid % BK (one reduction index per thread), rows tid/BK + i*(threads/BK);
//  MN-fast: one tile row/column per thread, mn = tid % extent, kk = tid/extent + i*(threads/extent).
// MN-fast makes neighbouring threads read neighbouring output pixels (coalesced in x or gy).
template <int kThreads, int BK>
struct KFast {
  static CS_CONV_HD int kk(int tid) { return tid % BK; }
  static CS_CONV_HD int mn(int tid, int i) { return tid / BK + i * (kThreads / BK); }
};
template <int kThreads, int kExtent>
struct MNFast {
  static CS_CONV_HD int mn(int tid) { return tid % kExtent; }
  static CS_CONV_HD int kk(int tid, int i) { return tid / kExtent + i * (kThreads / kExtent); }
};

// A mixed-radix counter (hi, mid, lo) with radices (mid_n, lo_n): index =
// (hi*mid_n + mid)*lo_n + lo. Advancing by a fixed step costs two compares
// instead of two divisions per element.
struct Radix3 {
  int hi, mid, lo;
};
struct Radix3Step {
  int dhi, dmid, dlo, mid_n, lo_n;
};
CS_CONV_HD Radix3 radix3(int index, int mid_n, int lo_n) {
  if (mid_n <= 0 || lo_n <= 0) return {0, 0, 0};
  return {index / (mid_n * lo_n), index / lo_n % mid_n, index % lo_n};
}
CS_CONV_HD Radix3Step radix3_step(int step, int mid_n, int lo_n) {
  if (mid_n <= 0 || lo_n <= 0) return {0, 0, 0, 1, 1};
  return {step / (mid_n * lo_n), step / lo_n % mid_n, step % lo_n, mid_n, lo_n};
}
CS_CONV_HD void advance(Radix3& x, const Radix3Step& st) {
  x.lo += st.dlo;
  int carry = x.lo >= st.lo_n;  // lo + dlo < 2*lo_n: one subtraction suffices
  x.lo -= carry * st.lo_n;
  x.mid += st.dmid + carry;
  carry = x.mid >= st.mid_n;
  x.mid -= carry * st.mid_n;
  x.hi += st.dhi + carry;
}

CS_CONV_HD int gcd_int(int a, int b) {
  while (b) {
    const int t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// For input rows h = a + i*stride (one stride phase), the kernel taps that
// reach an output row: r = first + j*step for j < count, and then the output
// row is p = i + offset - j*out_step (in range or not).
struct PhaseTaps {
  int first, count, step, offset, out_step;
};
CS_CONV_HD PhaseTaps phase_taps(int a, int pad, int dil, int stride, int R) {
  const int g = gcd_int(stride, dil);
  PhaseTaps t{0, 0, stride / g, 0, dil / g};
  for (int r = 0; r < R; ++r) {
    const int num = a + pad - r * dil;  // p*stride = h + pad - r*dil
    if (num % stride == 0) {
      t.first = r;
      t.offset = num / stride;
      t.count = (R - 1 - r) / t.step + 1;
      break;
    }
  }
  return t;
}

// Rows of one stride phase: ceil((size - a) / stride), 0 when a >= size.
CS_CONV_HD int phase_extent(int a, int size, int stride) {
  return a < size ? (size - a + stride - 1) / stride : 0;
}

// ---------------------------------------------------------------------------
// Forward: out[k, j] = sum_t w[g*Kg + k, t] * x patch[t, j], j = (n, p, q), t = (c, r, s).

// A = w viewed as (K, Cg*R*S): the rows of a group are contiguous. K-fast.
template <class Cfg>
struct FwdWeightLoader {
  using L = KFast<Cfg::kThreads, Cfg::BK>;
  static constexpr int kRowStep = Cfg::kThreads / Cfg::BK;  // tile rows between a thread's loads
  const float* row0;  // w[g*Kg + m_first]
  int m_first, Kg, t, t_end;
  CS_CONV_HD FwdWeightLoader(const float* w, const ConvGeom& g, int group, int m0, int tid) {
    Kg = g.Kg;
    t_end = g.Cg * g.R * g.S;
    t = L::kk(tid);
    m_first = m0 + L::mn(tid, 0);
    row0 = w + (static_cast<int64_t>(group) * g.Kg + m_first) * t_end;
  }
  CS_CONV_HD void load(float (&v)[Cfg::kALoads]) const {
    for (int i = 0; i < Cfg::kALoads; ++i)
      v[i] = m_first + i * kRowStep < Kg && t < t_end
                 ? row0[static_cast<int64_t>(i) * kRowStep * t_end + t]
                 : 0.0f;
  }
  CS_CONV_HD void advance() { t += Cfg::BK; }
  // Where v[i] goes in the (BK, BM) shared tile.
  static CS_CONV_HD int tile_k(int tid, int) { return L::kk(tid); }
  static CS_CONV_HD int tile_mn(int tid, int i) { return L::mn(tid, i); }
};

// B = the input patches, x[n, g*Cg + c, p*sh - ph + r*dh, q*sw - pw + s*dw]. MN-fast.
template <class Cfg>
struct FwdInputLoader {
  using L = MNFast<Cfg::kThreads, Cfg::BN>;
  static constexpr int kRowStep = Cfg::kThreads / Cfg::BN;
  const float* image;        // x[n, g*Cg]
  int h0, w0;                // top-left input pixel of output (p, q)
  Radix3 pos[Cfg::kBLoads];  // (c, r, s) of each fetched reduction row
  Radix3Step step;
  int t0, t_end;             // t_end = 0 for a column past the end
  int H, W, dh, dw;
  int64_t HW;
  CS_CONV_HD FwdInputLoader(const float* x, const ConvGeom& g, int group, int n0, int tid) {
    const int j = n0 + L::mn(tid);
    const int pq = g.P * g.Q;
    const bool col_valid = j < g.N * pq;
    const int jj = col_valid ? j : 0;
    const int n = jj / pq, p = jj % pq / g.Q, q = jj % g.Q;
    H = g.H, W = g.W, dh = g.dh, dw = g.dw;
    HW = static_cast<int64_t>(g.H) * g.W;
    image = x + (static_cast<int64_t>(n) * g.C + static_cast<int64_t>(group) * g.Cg) * HW;
    h0 = p * g.sh - g.ph;
    w0 = q * g.sw - g.pw;
    t_end = col_valid ? g.Cg * g.R * g.S : 0;
    step = radix3_step(Cfg::BK, g.R, g.S);
    t0 = L::kk(tid, 0);
    for (int i = 0; i < Cfg::kBLoads; ++i) pos[i] = radix3(L::kk(tid, i), g.R, g.S);
  }
  CS_CONV_HD void load(float (&v)[Cfg::kBLoads]) const {
    for (int i = 0; i < Cfg::kBLoads; ++i) {
      const int h = h0 + pos[i].mid * dh, w = w0 + pos[i].lo * dw;
      const bool inside = t0 + i * kRowStep < t_end && h >= 0 && h < H && w >= 0 && w < W;
      v[i] = inside ? image[pos[i].hi * HW + static_cast<int64_t>(h) * W + w] : 0.0f;
    }
  }
  CS_CONV_HD void advance() {
    t0 += Cfg::BK;
    for (int i = 0; i < Cfg::kBLoads; ++i) conv_tiles::advance(pos[i], step);
  }
  static CS_CONV_HD int tile_k(int tid, int i) { return L::kk(tid, i); }
  static CS_CONV_HD int tile_mn(int tid, int) { return L::mn(tid); }
};

// y[n, g*Kg + k, p, q] = out[k, j] + bias[g*Kg + k]
struct FwdStore {
  float* y;
  const float* bias;  // null: no bias
  int group, Kg, K, PQ, cols;  // cols = N*P*Q
  bool vec4;  // PQ % 4 == 0 and y 16-byte aligned: 4 columns from j0 % 4 == 0 are one float4
  CS_CONV_HD void store(int m, int j, float acc) const {
    if (m >= Kg || j >= cols) return;
    const int k = group * Kg + m;
    const int n = j / PQ, pq = j % PQ;
    y[(static_cast<int64_t>(n) * K + k) * PQ + pq] = bias ? acc + bias[k] : acc;
  }
  // Columns j0 .. j0+3 of row m (j0 % 4 == 0).
  CS_CONV_HD void store4(int m, int j0, const float (&v)[4]) const {
#if defined(__CUDA_ARCH__)
    if (vec4 && m < Kg && j0 + 3 < cols) {
      const int k = group * Kg + m;
      const int n = j0 / PQ, pq = j0 % PQ;
      const float b = bias ? bias[k] : 0.0f;
      float4 out = bias ? make_float4(v[0] + b, v[1] + b, v[2] + b, v[3] + b)
                        : make_float4(v[0], v[1], v[2], v[3]);
      *reinterpret_cast<float4*>(y + (static_cast<int64_t>(n) * K + k) * PQ + pq) = out;
      return;
    }
#endif
    for (int e = 0; e < 4; ++e) store(m, j0 + e, v[e]);
  }
};

// ---------------------------------------------------------------------------
// Backward-data for one stride phase (ah, aw) of one group:
//   gx[n, g*Cg + c, ah + i*sh, aw + j*sw] = sum over t = (k, jr, js) of
//     w[g*Kg + k, c, rt.first + jr*rt.step, st.first + js*st.step] *
//     gy[n, g*Kg + k, i + rt.offset - jr*rt.out_step, j + st.offset - js*st.out_step]

struct BwdDataPhase {
  int ah, aw, Hph, Wph, cols;  // cols = N*Hph*Wph
  PhaseTaps rt, st;
  int t_end;  // Kg * rt.count * st.count
};
CS_CONV_HD BwdDataPhase bwd_data_phase(const ConvGeom& g, int phase) {
  BwdDataPhase b;
  b.ah = phase / g.sw;
  b.aw = phase % g.sw;
  b.Hph = phase_extent(b.ah, g.H, g.sh);
  b.Wph = phase_extent(b.aw, g.W, g.sw);
  b.cols = g.N * b.Hph * b.Wph;
  b.rt = phase_taps(b.ah, g.ph, g.dh, g.sh, g.R);
  b.st = phase_taps(b.aw, g.pw, g.dw, g.sw, g.S);
  b.t_end = g.Kg * b.rt.count * b.st.count;
  return b;
}

// A[c, t] = w[g*Kg + k, c, r, s], t = (k, jr, js). K-fast: one t per thread.
template <class Cfg>
struct BwdDataWeightLoader {
  using L = KFast<Cfg::kThreads, Cfg::BK>;
  static constexpr int kRowStep = Cfg::kThreads / Cfg::BK;
  const float* wg;  // w[g*Kg, m_first]
  Radix3 pos;       // (k, jr, js)
  Radix3Step step;
  int m_first, t, t_end, Cg, RS, S;
  int r_first, r_step, s_first, s_step;
  CS_CONV_HD BwdDataWeightLoader(const float* w, const ConvGeom& g, const BwdDataPhase& ph,
                                 int group, int m0, int tid) {
    Cg = g.Cg;
    RS = g.R * g.S;
    S = g.S;
    r_first = ph.rt.first, r_step = ph.rt.step, s_first = ph.st.first, s_step = ph.st.step;
    m_first = m0 + L::mn(tid, 0);
    wg = w + (static_cast<int64_t>(group) * g.Kg * g.Cg + m_first) * RS;
    t = L::kk(tid);
    t_end = ph.t_end;
    pos = radix3(t, ph.rt.count, ph.st.count);
    step = radix3_step(Cfg::BK, ph.rt.count, ph.st.count);
  }
  CS_CONV_HD void load(float (&v)[Cfg::kALoads]) const {
    const int r = r_first + pos.mid * r_step, s = s_first + pos.lo * s_step;
    const int64_t base = static_cast<int64_t>(pos.hi) * Cg * RS + r * S + s;
    for (int i = 0; i < Cfg::kALoads; ++i)
      v[i] = t < t_end && m_first + i * kRowStep < Cg
                 ? wg[base + static_cast<int64_t>(i) * kRowStep * RS]
                 : 0.0f;
  }
  CS_CONV_HD void advance() {
    t += Cfg::BK;
    conv_tiles::advance(pos, step);
  }
  static CS_CONV_HD int tile_k(int tid, int) { return L::kk(tid); }
  static CS_CONV_HD int tile_mn(int tid, int i) { return L::mn(tid, i); }
};

// B[t, (n, i, j)] = gy[n, g*Kg + k, i + rt.offset - jr*rt.out_step, j + st.offset - js*st.out_step].
// MN-fast.
template <class Cfg>
struct BwdDataGradLoader {
  using L = MNFast<Cfg::kThreads, Cfg::BN>;
  static constexpr int kRowStep = Cfg::kThreads / Cfg::BN;
  const float* plane;  // gy[n, g*Kg]
  int p0, q0;          // output pixel reached by taps (rt.first, st.first)
  Radix3 pos[Cfg::kBLoads];  // (k, jr, js)
  Radix3Step step;
  int t0, t_end, P, Q, pstep, qstep;
  int64_t PQ;
  CS_CONV_HD BwdDataGradLoader(const float* gy, const ConvGeom& g, const BwdDataPhase& ph,
                               int group, int n0, int tid) {
    const int col = n0 + L::mn(tid);
    const bool col_valid = col < ph.cols;
    const int cc = col_valid ? col : 0;
    const int per_image = ph.Hph * ph.Wph;
    const int n = per_image ? cc / per_image : 0;
    const int i = per_image ? cc % per_image / ph.Wph : 0, j = per_image ? cc % ph.Wph : 0;
    P = g.P, Q = g.Q;
    PQ = static_cast<int64_t>(g.P) * g.Q;
    plane = gy + (static_cast<int64_t>(n) * g.K + static_cast<int64_t>(group) * g.Kg) * PQ;
    p0 = i + ph.rt.offset;
    q0 = j + ph.st.offset;
    pstep = ph.rt.out_step;
    qstep = ph.st.out_step;
    t_end = col_valid ? ph.t_end : 0;
    step = radix3_step(Cfg::BK, ph.rt.count, ph.st.count);
    t0 = L::kk(tid, 0);
    for (int l = 0; l < Cfg::kBLoads; ++l) pos[l] = radix3(L::kk(tid, l), ph.rt.count, ph.st.count);
  }
  CS_CONV_HD void load(float (&v)[Cfg::kBLoads]) const {
    for (int l = 0; l < Cfg::kBLoads; ++l) {
      const int p = p0 - pos[l].mid * pstep, q = q0 - pos[l].lo * qstep;
      const bool inside = t0 + l * kRowStep < t_end && p >= 0 && p < P && q >= 0 && q < Q;
      v[l] = inside ? plane[pos[l].hi * PQ + static_cast<int64_t>(p) * Q + q] : 0.0f;
    }
  }
  CS_CONV_HD void advance() {
    t0 += Cfg::BK;
    for (int l = 0; l < Cfg::kBLoads; ++l) conv_tiles::advance(pos[l], step);
  }
  static CS_CONV_HD int tile_k(int tid, int i) { return L::kk(tid, i); }
  static CS_CONV_HD int tile_mn(int tid, int) { return L::mn(tid); }
};

// gx[n, g*Cg + c, ah + i*sh, aw + j*sw] = out[c, (n, i, j)]
struct BwdDataStore {
  float* gx;
  int group, Cg, C, H, W, sh, sw;
  int ah, aw, Hph, Wph, cols;
  CS_CONV_HD void store(int c, int col, float acc) const {
    if (c >= Cg || col >= cols) return;
    const int per_image = Hph * Wph;
    const int n = col / per_image, i = col % per_image / Wph, j = col % Wph;
    const int h = ah + i * sh, w = aw + j * sw;
    gx[((static_cast<int64_t>(n) * C + group * Cg + c) * H + h) * W + w] = acc;
  }
  CS_CONV_HD void store4(int c, int col0, const float (&v)[4]) const {
    for (int e = 0; e < 4; ++e) store(c, col0 + e, v[e]);
  }
};

// ---------------------------------------------------------------------------
// Backward-weight over one split [t_begin, t_end) of the reduction t = (n, p, q):
//   partial[split, g*Kg + k, (c, r, s)] = sum_t gy[n, g*Kg + k, p, q] * x[n, g*Cg + c, h(p, r), w(q, s)]

// A[k, t] = gy[n, g*Kg + k, p, q]. K-fast: one (n, p, q) per thread.
template <class Cfg>
struct BwdWeightGradLoader {
  using L = KFast<Cfg::kThreads, Cfg::BK>;
  static constexpr int kRowStep = Cfg::kThreads / Cfg::BK;
  const float* rows;  // gy[0, g*Kg + m_first]
  Radix3 pos;         // (n, p, q)
  Radix3Step step;
  int m_first, t, t_end, Kg, Q;
  int64_t PQ, KPQ;
  CS_CONV_HD BwdWeightGradLoader(const float* gy, const ConvGeom& g, int group, int m0,
                                 int t_begin, int t_stop, int tid) {
    Kg = g.Kg, Q = g.Q;
    PQ = static_cast<int64_t>(g.P) * g.Q;
    KPQ = g.K * PQ;
    m_first = m0 + L::mn(tid, 0);
    rows = gy + (static_cast<int64_t>(group) * g.Kg + m_first) * PQ;
    t = t_begin + L::kk(tid);
    t_end = t_stop;
    pos = radix3(t, g.P, g.Q);
    step = radix3_step(Cfg::BK, g.P, g.Q);
  }
  CS_CONV_HD void load(float (&v)[Cfg::kALoads]) const {
    const int64_t base = pos.hi * KPQ + pos.mid * Q + pos.lo;
    for (int i = 0; i < Cfg::kALoads; ++i)
      v[i] = t < t_end && m_first + i * kRowStep < Kg
                 ? rows[base + static_cast<int64_t>(i) * kRowStep * PQ]
                 : 0.0f;
  }
  CS_CONV_HD void advance() {
    t += Cfg::BK;
    conv_tiles::advance(pos, step);
  }
  static CS_CONV_HD int tile_k(int tid, int) { return L::kk(tid); }
  static CS_CONV_HD int tile_mn(int tid, int i) { return L::mn(tid, i); }
};

// B[t, (c, r, s)] = x[n, g*Cg + c, p*sh - ph + r*dh, q*sw - pw + s*dw]. K-fast.
template <class Cfg>
struct BwdWeightInputLoader {
  using L = KFast<Cfg::kThreads, Cfg::BK>;
  const float* xg;  // x[0, g*Cg]
  int64_t coff[Cfg::kBLoads];  // c*H*W of each fetched column, -1 past the end
  int roff[Cfg::kBLoads], soff[Cfg::kBLoads];  // r*dh - ph, s*dw - pw
  Radix3 pos;  // (n, p, q)
  Radix3Step step;
  int t, t_end, H, W, sh, sw;
  int64_t CHW;
  CS_CONV_HD BwdWeightInputLoader(const float* x, const ConvGeom& g, int group, int n0,
                                  int t_begin, int t_stop, int tid) {
    H = g.H, W = g.W, sh = g.sh, sw = g.sw;
    const int64_t HW = static_cast<int64_t>(g.H) * g.W;
    CHW = g.C * HW;
    xg = x + static_cast<int64_t>(group) * g.Cg * HW;
    t = t_begin + L::kk(tid);
    t_end = t_stop;
    pos = radix3(t, g.P, g.Q);
    step = radix3_step(Cfg::BK, g.P, g.Q);
    const int crs = g.Cg * g.R * g.S;
    for (int i = 0; i < Cfg::kBLoads; ++i) {
      const int col = n0 + L::mn(tid, i);
      const Radix3 c = radix3(col < crs ? col : 0, g.R, g.S);
      coff[i] = col < crs ? c.hi * HW : -1;
      roff[i] = c.mid * g.dh - g.ph;
      soff[i] = c.lo * g.dw - g.pw;
    }
  }
  CS_CONV_HD void load(float (&v)[Cfg::kBLoads]) const {
    const float* image = xg + pos.hi * CHW;
    const int hb = pos.mid * sh, wb = pos.lo * sw;
    for (int i = 0; i < Cfg::kBLoads; ++i) {
      const int h = hb + roff[i], w = wb + soff[i];
      const bool inside = t < t_end && coff[i] >= 0 && h >= 0 && h < H && w >= 0 && w < W;
      v[i] = inside ? image[coff[i] + static_cast<int64_t>(h) * W + w] : 0.0f;
    }
  }
  CS_CONV_HD void advance() {
    t += Cfg::BK;
    conv_tiles::advance(pos, step);
  }
  static CS_CONV_HD int tile_k(int tid, int) { return L::kk(tid); }
  static CS_CONV_HD int tile_mn(int tid, int i) { return L::mn(tid, i); }
};

// partial[split, g*Kg + k, crs] = out[k, crs]
struct BwdWeightStore {
  float* partial;  // partial[split]: (K, Cg*R*S)
  int group, Kg, crs;
  bool vec4;  // crs % 4 == 0 and partial 16-byte aligned
  CS_CONV_HD void store(int m, int col, float acc) const {
    if (m >= Kg || col >= crs) return;
    partial[(static_cast<int64_t>(group) * Kg + m) * crs + col] = acc;
  }
  CS_CONV_HD void store4(int m, int col0, const float (&v)[4]) const {
#if defined(__CUDA_ARCH__)
    if (vec4 && m < Kg && col0 + 3 < crs) {
      *reinterpret_cast<float4*>(partial + (static_cast<int64_t>(group) * Kg + m) * crs + col0) =
          make_float4(v[0], v[1], v[2], v[3]);
      return;
    }
#endif
    for (int e = 0; e < 4; ++e) store(m, col0 + e, v[e]);
  }
};

// How backward-weight splits its reduction over N*P*Q: `splits` chunks of
// `chunk` (a multiple of BK) each, enough blocks for about two waves on an
// H100 (132 SMs). A function of the shape only, so the summation order, and
// so the result, never depends on the device.
struct SplitPlan {
  int splits, chunk;
};
CS_CONV_HD SplitPlan split_plan(int64_t length, int64_t tiles, int bk) {
  constexpr int64_t kTargetBlocks = 264, kMinChunk = 512, kMaxSplits = 128;
  if (length <= 0) return {1, bk};
  int64_t splits = (kTargetBlocks + tiles - 1) / tiles;
  const int64_t by_length = (length + kMinChunk - 1) / kMinChunk;
  if (splits > by_length) splits = by_length;
  if (splits > kMaxSplits) splits = kMaxSplits;
  if (splits < 1) splits = 1;
  int64_t chunk = (length + splits - 1) / splits;
  chunk = (chunk + bk - 1) / bk * bk;
  splits = (length + chunk - 1) / chunk;
  return {static_cast<int>(splits), static_cast<int>(chunk)};
}

}  // namespace cs::kernels::conv_tiles
