#!/usr/bin/env python3
"""Cross-check convscope's safetensors files with the reference implementation.

Uses the `safetensors` and `numpy` Python packages (pip install safetensors numpy).

  check_safetensors_peer.py read FILE    print every tensor's name, dtype, shape,
                                         sum and SHA-256 of its bytes, and the metadata
  check_safetensors_peer.py write FILE   write a reference file with F32, F16, BF16
                                         and I64 tensors for convscope to read
  check_safetensors_peer.py check FILE   verify the exact file the convscope test
                                         SafetensorsPeer.PythonSafetensorsAgreesWithUs
                                         writes (exit status 1 on any mismatch)

The C++ side of the round trip is that test; run it with
  CONVSCOPE_PEER_CHECK=1 build/tests/test_io --gtest_filter='SafetensorsPeer*'
"""

import argparse
import hashlib
import json
import sys

try:
    import numpy as np
    import safetensors
    from safetensors import safe_open
except ImportError as e:  # pragma: no cover - depends on the environment
    sys.exit(f"check_safetensors_peer.py: {e}; install with `pip install safetensors numpy`")


def _raw_bfloat16(path, name):
    """A BF16 tensor as float32 (numpy has no bfloat16): its bytes located
    through the header, each value widened by 16 zero bits; None for other dtypes."""
    with open(path, "rb") as raw:
        n = int.from_bytes(raw.read(8), "little")
        entry = json.loads(raw.read(n))[name]
        if entry["dtype"] != "BF16":
            return None
        begin, end = entry["data_offsets"]
        raw.seek(8 + n + begin)
        bits = np.frombuffer(raw.read(end - begin), dtype="<u2").astype(np.uint32) << 16
    return bits.view(np.float32).reshape(entry["shape"])


def read(path):
    """Prints what the reference reader sees."""
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
        for name in sorted(f.keys()):
            try:
                a = f.get_tensor(name)
            except (TypeError, ValueError) as e:
                a = _raw_bfloat16(path, name)
                if a is None:
                    print(f"{name}: not readable as numpy ({e})")
                    continue
                name += " (BF16, shown as float32)"
            digest = hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]
            total = a.astype(np.float64).sum() if a.size else 0.0
            print(f"{name}: dtype={a.dtype} shape={list(a.shape)} sum={total:.9g} sha256={digest}")
    for key in sorted(metadata):
        print(f"metadata {key} = {metadata[key]!r}")


def _spec(dtype, array):
    """A raw tensor for the serializer (its API changed in safetensors 0.7)."""
    array = np.ascontiguousarray(array)
    if hasattr(safetensors, "TensorSpec"):
        return safetensors.TensorSpec(dtype=dtype, shape=list(array.shape),
                                      data_ptr=array.ctypes.data, data_len=array.nbytes)
    return {"dtype": dtype, "shape": list(array.shape), "data": array.tobytes()}


def write(path):
    """The values SafetensorsPeer.PythonSafetensorsAgreesWithUs expects."""
    f32 = ((np.arange(12, dtype=np.float32) - np.float32(5.5)) / np.float32(4)).reshape(3, 4)
    f16 = np.array([1.0, -2.5, 65504.0, 2.0 ** -24, np.inf, np.nan], dtype=np.float16)
    # bfloat16: the upper halves of float32 values that bfloat16 holds exactly.
    exact = np.array([1.0, -2.5, 65280.0, 2.0 ** -133, -np.inf, np.nan], dtype=np.float32)
    bits = exact.view(np.uint32)
    assert not np.any(bits[:5] & 0xFFFF), "not exactly representable in bfloat16"
    bf16 = (bits >> 16).astype(np.uint16)
    i64 = np.array([[0, -1, 2**31 - 1], [-(2**31), 42, 7]], dtype=np.int64)
    arrays = {"f32": ("float32", f32), "f16": ("float16", f16), "bf16": ("bfloat16", bf16),
              "i64": ("int64", i64)}
    specs = {name: _spec(dtype, a) for name, (dtype, a) in arrays.items()}
    safetensors.serialize_file(specs, path, metadata={"writer": "check_safetensors_peer.py"})
    # The reference reader must accept what it wrote (BF16 aside: numpy has no bfloat16).
    with safe_open(path, framework="numpy") as f:
        assert np.array_equal(f.get_tensor("f32"), f32)
        assert np.array_equal(f.get_tensor("f16"), f16, equal_nan=True)
        assert np.array_equal(f.get_tensor("i64"), i64)
    print(f"wrote {path}")


def check(path):
    """The exact contents the C++ test writes with save_safetensors."""
    expected = {
        "a.f32": ((np.arange(6, dtype=np.float32) - np.float32(2)) * np.float32(0.25)).reshape(2, 3),
        "b.f64": np.arange(4, dtype=np.float64) / 3.0,
        "c.i32": np.array([[-(2**31), -1], [0, 2**31 - 1]], dtype=np.int32),
        "d.u8": np.array([[0], [1], [128], [255]], dtype=np.uint8),
    }
    failures = []
    with safe_open(path, framework="numpy") as f:
        keys = sorted(f.keys())
        if keys != sorted(expected):
            failures.append(f"tensor names {keys}, expected {sorted(expected)}")
        for name, want in expected.items():
            if name not in keys:
                continue
            got = f.get_tensor(name)
            if got.dtype != want.dtype or got.shape != want.shape:
                failures.append(f"{name}: {got.dtype} {got.shape}, expected {want.dtype} {want.shape}")
            elif got.tobytes() != want.tobytes():
                failures.append(f"{name}: values {got.ravel().tolist()}, expected {want.ravel().tolist()}")
        metadata = f.metadata() or {}
        if metadata != {"writer": "convscope"}:
            failures.append(f"metadata {metadata}, expected {{'writer': 'convscope'}}")
    # The raw layout: an 8-byte length, a header padded to a multiple of 8.
    with open(path, "rb") as raw:
        n = int.from_bytes(raw.read(8), "little")
        if n % 8:
            failures.append(f"header length {n} is not a multiple of 8")
    for failure in failures:
        print(f"{path}: {failure}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"{path}: the reference reader agrees")
    read(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["read", "write", "check"])
    parser.add_argument("file")
    args = parser.parse_args()
    {"read": read, "write": write, "check": check}[args.command](args.file)


if __name__ == "__main__":
    main()
