"""Sample-rate conversion (soxr) and channel mapping."""

from __future__ import annotations

import numpy as np
import soxr
from numpy.typing import NDArray

from bridge.audio.cores import MIN_SPLIT_FRAMES, side_pool
from bridge.errors import AudioParameterError

__all__ = ["map_channels", "resample"]


def resample(x: NDArray[np.floating], sr_in: int, sr_out: int, *, quality: str = "HQ") -> NDArray[np.float32]:
    """Resample ``x`` [shape=(frames, channels)] from ``sr_in`` to ``sr_out`` Hz with soxr.

    Delay is compensated and the output has ``round(frames * sr_out / sr_in)`` frames.
    """
    if sr_in <= 0 or sr_out <= 0:
        raise AudioParameterError(f"sample rate = {sr_in} -> {sr_out}: both must be > 0")
    if x.ndim != 2:
        raise AudioParameterError(f"x: expected shape (frames, channels), got {x.shape}")
    if sr_in == sr_out:
        return np.asarray(x, dtype=np.float32)
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    pool = side_pool()
    if pool is None or x.shape[1] == 1 or len(x) < MIN_SPLIT_FRAMES:
        out = soxr.resample(x32, sr_in, sr_out, quality=quality)
        return np.asarray(out, dtype=np.float32).reshape(-1, x.shape[1])

    def one(channel: int) -> NDArray[np.float32]:
        return np.asarray(soxr.resample(np.ascontiguousarray(x32[:, channel]), sr_in, sr_out, quality=quality),
                          dtype=np.float32)

    # each channel is filtered on its own either way: the same samples as one call, in less time
    return np.stack(list(pool.map(one, range(x.shape[1]))), axis=1)


def map_channels(x: NDArray[np.floating], channels: int) -> NDArray[np.float32]:
    """Map ``x`` [shape=(frames, c)] to ``channels`` channels.

    * same count: unchanged;
    * to mono: the mean of all channels;
    * from mono: the channel repeated;
    * stereo to more: left and right alternate (L, R, L, R, ...);
    * more to stereo: left = mean of the even channels, right = mean of the odd ones;
    * any other change: channels cycle.
    """
    if channels < 1:
        raise AudioParameterError(f"channels = {channels}: must be >= 1")
    have = x.shape[1]
    x32 = np.asarray(x, dtype=np.float32)
    if have == channels:
        return x32
    if channels == 1:
        mixed: NDArray[np.float32] = x32.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
        return mixed
    if channels == 2 and have > 2:
        return np.stack([x32[:, 0::2].mean(axis=1), x32[:, 1::2].mean(axis=1)], axis=1).astype(np.float32)
    cycled: NDArray[np.float32] = np.ascontiguousarray(x32[:, np.arange(channels) % have])
    return cycled
