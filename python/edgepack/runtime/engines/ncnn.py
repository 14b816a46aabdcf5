"""ncnn (PyPI `ncnn`). pnnx names tensors in0../out0..; the artifact maps them back to ONNX names.
ncnn Mats carry no batch dimension, so a leading batch of 1 is dropped on the way in and restored on the
way out. Parity with fp32 needs ncnn's fp16 storage/arithmetic switched off.

From a bundle, the .param text and the .bin weights are taken from memory (`Artifact.memory`): the text
through `Net.load_param_mem`, the weights through a `DataReader` that preads them out of the bundle file
(see _memory_reader_class), so nothing is written to disk on load."""

from __future__ import annotations

import ctypes
import functools
import os

import numpy as np

from edgepack.errors import InputError
from edgepack.runtime.artifact import Artifact
from edgepack.runtime.bundle.integrity import FileSpan
from edgepack.runtime.engines.base import Engine


class NcnnEngine(Engine):
    name = "ncnn"
    package = "ncnn"

    @classmethod
    def memory_roles(cls) -> frozenset[str]:
        return frozenset({"param", "bin"}) if _memory_loading() else frozenset()

    def _load(self, artifact: Artifact, threads: int, device: str) -> None:
        import ncnn

        net = ncnn.Net()
        fp16 = artifact.precision == "fp16"  # int8 artifacts keep their non-int8 layers in fp32
        opt = net.opt
        opt.num_threads = threads
        opt.use_fp16_storage = fp16
        opt.use_fp16_arithmetic = fp16
        opt.use_fp16_packed = fp16
        if device == "vulkan":
            if ncnn.get_gpu_count() == 0:
                raise InputError("ncnn: no Vulkan device found; use device='cpu' or install a Vulkan driver")
            opt.use_vulkan_compute = True
        mem = artifact.memory
        if "param" in mem:
            try:
                text = bytes(mem["param"]).decode("utf-8")
            except UnicodeDecodeError:
                text = None
            ok = text is not None and net.load_param_mem(text) == 0
        else:
            ok = net.load_param(str(artifact.path("param"))) == 0
        if not ok:
            raise InputError(f"ncnn could not load {artifact.files['param']}: the file is corrupt or uses a "
                             "layer this ncnn build lacks; reconvert with edgepack convert")
        if "bin" in mem:
            reader = _memory_reader_class()(mem["bin"])
            try:
                ok = net.load_model(reader) == 0
            finally:
                reader.close()
        else:
            ok = net.load_model(str(artifact.path("bin"))) == 0
        if not ok:
            raise InputError(f"ncnn could not load {artifact.files['bin']}: the file is corrupt or truncated; "
                             "reconvert with edgepack convert")
        self._ncnn, self._net = ncnn, net

    def _run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        blobs = self.extract(feeds, [t.engine_name for t in self.outputs])
        out = {}
        for t in self.outputs:
            arr = blobs[t.engine_name]
            if arr.size != int(np.prod(t.shape)):
                raise RuntimeError(f"ncnn output '{t.name}' has {arr.size} elements, expected shape {t.shape}")
            out[t.name] = arr.astype(t.dtype, copy=False)
        return out

    def extract(self, feeds: dict[str, np.ndarray], blobs: list[str]) -> dict[str, np.ndarray]:
        """Run once and return ncnn blobs by their ncnn names (intermediate blobs too: calibration and
        per-layer diagnosis read them). Feeds are by ONNX input name, already checked by run()."""
        ncnn = self._ncnn
        ex = self._net.create_extractor()
        if len(blobs) > len(self.outputs):
            ex.set_light_mode(False)  # keep intermediate blobs instead of recomputing them per extract
        keep = []  # inputs must outlive the extractor
        for t in self.inputs:
            a = feeds[t.name]
            if a.ndim >= 2 and a.shape[0] == 1:
                a = a[0]  # pnnx treats a leading 1 as the batch, which ncnn Mats do not carry
            if a.ndim > 4:
                raise InputError(f"ncnn tensors have at most 4 dims: input '{t.name}' has shape "
                                 f"{list(feeds[t.name].shape)}; reshape it before export")
            a = np.ascontiguousarray(a, dtype=np.float32)
            keep.append(a)
            mat = ncnn.Mat(a).clone()
            keep.append(mat)
            ex.input(t.engine_name, mat)
        out = {}
        for name in blobs:
            ret, mat = ex.extract(name)
            if ret != 0:
                raise RuntimeError(f"ncnn failed to compute blob '{name}', code {ret}")
            out[name] = np.array(mat, copy=True)
        return out

    def close(self) -> None:
        if getattr(self, "_net", None) is not None:
            self._net.clear()
            self._net = None


@functools.lru_cache(maxsize=1)
def _capsule_pointer():
    """PyCapsule_GetPointer through ctypes: ncnn's Python DataReader receives its destination buffer as a
    capsule (pybind11's form of void*). None where the C API is not reachable (not CPython)."""
    try:
        fn = ctypes.pythonapi.PyCapsule_GetPointer
    except (AttributeError, OSError):
        return None
    fn.restype = ctypes.c_void_p
    fn.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return fn


@functools.lru_cache(maxsize=1)
def _memoryview_from_memory():
    """PyMemoryView_FromMemory through ctypes: a writable memoryview of ncnn's destination buffer for pread
    (a ctypes array type per read would cost more than the read)."""
    fn = ctypes.pythonapi.PyMemoryView_FromMemory
    fn.restype = ctypes.py_object
    fn.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int]
    return fn


def _writable_view(address: int, size: int) -> memoryview:
    return _memoryview_from_memory()(address, size, 0x200)  # PyBUF_WRITE


@functools.lru_cache(maxsize=1)
def _memory_loading() -> bool:
    """This ncnn build takes a model from memory: load_param_mem and a subclassable DataReader."""
    import ncnn

    return (_capsule_pointer() is not None and hasattr(ctypes.pythonapi, "PyMemoryView_FromMemory")
            and hasattr(ncnn.Net, "load_param_mem") and hasattr(ncnn, "DataReader"))


@functools.lru_cache(maxsize=1)
def _memory_reader_class() -> type:
    import ncnn

    class MemoryReader(ncnn.DataReader):
        """ncnn reads the weights blob by blob through read(buf, size); each read copies from the buffer, or
        from the bundle file with pread for a FileSpan. Reads never go past its end (a short read makes ncnn
        fail the load cleanly)."""

        def __init__(self, data) -> None:
            super().__init__()
            self._get = _capsule_pointer()
            self._pos = 0
            self._fd = self._array = None
            if isinstance(data, FileSpan):
                self._fd = os.open(data.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
                self._base, self._size = data.offset, data.size
            else:
                self._array = np.frombuffer(data, np.uint8)  # for its address; dropped in close()
                self._base = self._array.ctypes.data
                self._size = self._array.size

        def read(self, buf, size: int) -> int:
            n = max(0, min(int(size), self._size - self._pos))
            if not n:
                return 0
            dest = self._get(buf, None)
            if self._fd is None:
                ctypes.memmove(dest, self._base + self._pos, n)
            else:
                try:
                    n = os.preadv(self._fd, [_writable_view(dest, n)], self._base + self._pos)
                except OSError:
                    return 0  # ncnn fails the load; the pending sha256 names the file
            self._pos += n
            return n

        def scan(self, fmt, p) -> int:  # text parsing is never asked of a weights reader
            return 0

        def close(self) -> None:
            self._array = None  # releases the buffer, so the bundle can unmap it
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    return MemoryReader
