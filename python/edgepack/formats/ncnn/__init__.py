"""ncnn's .param (text graph) and .bin (weights) formats: read, edit, write back byte for byte."""

from edgepack.formats.ncnn.model import NcnnModel, WeightBlob, read_model, write_model
from edgepack.formats.ncnn.param import Layer, ParamFile, read_param

__all__ = ["Layer", "NcnnModel", "ParamFile", "WeightBlob", "read_model", "read_param", "write_model"]
