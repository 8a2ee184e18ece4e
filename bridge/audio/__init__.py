"""The audio core: pure numpy functions over arrays; only :mod:`bridge.audio.io` touches files.

Layout everywhere: float arrays shaped ``(frames, channels)`` (soundfile's layout, read
with ``always_2d=True``), float32 between stages; positions are frames, rates ``sr`` in Hz.
Bad arrays or knobs raise :class:`bridge.errors.AudioParameterError`.
"""
