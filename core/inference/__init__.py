"""One inference backend for every transformer model the bot runs: ONNX Runtime on int8 weights.

:mod:`core.inference.onnx` loads a model folder (a gzip-compressed ONNX file whose sha256 its
manifest states, and a ``tokenizer.json``); :class:`~core.inference.embedder.OnnxEmbedder` (the
sentence embedder) and :class:`~core.inference.cross_encoder.CrossEncoder` (the cache's hit verifier)
are built on it.  PyTorch is not needed at run time; it is used only to train and export models
(``training/``).
"""
