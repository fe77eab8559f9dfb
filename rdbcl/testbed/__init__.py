"""The reasoning testbed: π₀, the embedded VLM pretrained offline on the foundation mix that the ``digit_reasoning``
stream composes, and the portability diagnostic of a finished run. The top layer: it builds on the SFT trainer, the
models and evaluation."""
