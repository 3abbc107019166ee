"""Model runtime: the registry of installed models, onnxruntime sessions, tiling, memory budget."""
