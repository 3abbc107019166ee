"""AE Studio: learned image compression and restoration with ONNX autoencoders."""

__version__ = "0.1.0"
