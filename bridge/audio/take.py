"""Writing takes: the patch a DAW lays over the original, or a full copy, and its manifest.

A take file gets the source's sample rate, channels and subtype (lossy sources become
32-bit float WAV), and a JSON manifest beside it named ``<take file>.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from bridge.audio.io import AudioInfo, stream_copy_with, take_format, write_take
from bridge.errors import BadValue, OutputError
from bridge.files import write_text

__all__ = ["check_output", "default_take_path", "write_full", "write_manifest", "write_patch", "write_returned"]


def default_take_path(info: AudioInfo, start: float, end: float, *, kind: str, folder: Path | None = None) -> Path:
    """``<stem>.<kind>-<start>-<end>s<suffix>`` beside the source (or in ``folder``)."""
    _, _, suffix = take_format(info)
    name = f"{info.path.stem}.{kind}-{start:.3f}-{end:.3f}s{suffix}"
    return (folder or info.path.parent) / name


def check_output(info: AudioInfo, output: Path, *, overwrite: bool) -> None:
    """Refuse an output that is the source itself, or an existing file unless ``overwrite``."""
    if output.exists() and (output.resolve() == info.path.resolve() or os.path.samefile(output, info.path)):
        raise BadValue("output", str(output), "is the source file; the source is never written")
    if output.is_dir():
        raise BadValue("output", str(output), "is a folder; give a file name")
    if output.exists() and not overwrite:
        raise BadValue("output", str(output), "exists; pass --overwrite to replace it")
    if not output.parent.is_dir():
        raise OutputError(f"output folder = {str(output.parent)!r}: does not exist")
    if not os.access(output.parent, os.W_OK):
        raise OutputError(f"output folder = {str(output.parent)!r}: not writable")


def write_patch(info: AudioInfo, wanted: Path, native: NDArray[np.generic]) -> Path:
    """Write ``native`` frames (already in the source's sample type) as a new take file."""
    fmt, subtype, _ = take_format(info, wanted.suffix)

    def write(f: sf.SoundFile) -> None:
        f.write(native)

    return write_take(wanted, write, sr=info.sr, channels=info.channels, fmt=fmt, subtype=subtype)


def write_returned(wanted: Path, audio: NDArray[np.floating], sr: int) -> Path:
    """Write a model's answer as it came (32-bit float WAV at its own rate) under a new name."""

    def write(f: sf.SoundFile) -> None:
        f.write(np.asarray(audio, dtype=np.float32))

    return write_take(wanted.with_suffix(".wav"), write, sr=sr, channels=int(audio.shape[1]), fmt="WAV",
                      subtype="FLOAT")


def write_full(
    info: AudioInfo, wanted: Path, start: int, replacement: NDArray[np.generic], *, replace: bool
) -> Path:
    """Write the whole source with ``replacement`` at frame ``start``, streamed block by block."""
    fmt, subtype, _ = take_format(info, wanted.suffix)

    def write(f: sf.SoundFile) -> None:
        stream_copy_with(info, f, start, replacement)

    return write_take(wanted, write, sr=info.sr, channels=info.channels, fmt=fmt, subtype=subtype, replace=replace)


def write_manifest(take: Path, manifest: Mapping[str, object], *, replace: bool = False) -> Path:
    """Write ``<take>.json`` atomically, never over an existing file unless ``replace``."""
    text = json.dumps(manifest, indent=2, sort_keys=True, default=_jsonable) + "\n"
    return write_text(take.with_name(take.name + ".json"), text, exclusive=not replace)


def _jsonable(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise OutputError(f"manifest: cannot store a {type(value).__name__}")
