"""The one module of the audio core that touches files (through soundfile).

Samples outside an edited range must come out bit-identical, so sources are read in
their native sample type (``int16`` for 16-bit PCM, ``int32`` for 24/32-bit PCM, floats
for float files) and converted to float only for the engine and splice. A lossy source
(Ogg Vorbis, Opus, MP3) has no native samples to keep: its decoded float samples are the
truth, and takes of it are written as 32-bit float WAV, which holds them exactly.

Every write goes to a temporary file in the destination folder and is then linked into
place under a name nobody has taken, so a crash never leaves a half-written take and an
existing file is never replaced.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import stat
import struct
import tempfile
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from bridge.audio.cores import MIN_SPLIT_FRAMES, side_pool
from bridge.errors import AudioParameterError, OutputError, SourceError
from bridge.files import temp_in

__all__ = [
    "AudioInfo",
    "EncodedAudio",
    "check_source_file",
    "decode_bytes",
    "encode_bytes",
    "encode_wav",
    "from_float",
    "link_new",
    "probe",
    "read_frames",
    "stream_copy_with",
    "take_format",
    "to_float",
    "write_take",
]

LOSSY_SUBTYPES = {"VORBIS", "OPUS", "MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III"}
_NATIVE = {"PCM_S8": "int16", "PCM_U8": "int16", "PCM_16": "int16", "PCM_24": "int32", "PCM_32": "int32",
           "FLOAT": "float32", "DOUBLE": "float64"}
BLOCK_FRAMES = 1 << 18


@dataclass(frozen=True)
class AudioInfo:
    """What a source file holds."""

    path: Path
    sr: int
    frames: int
    channels: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        return self.frames / self.sr

    @property
    def lossy(self) -> bool:
        return self.subtype in LOSSY_SUBTYPES

    @property
    def native_dtype(self) -> str:
        """The sample type that holds this file's samples exactly."""
        return "float32" if self.lossy else _NATIVE.get(self.subtype, "float64")


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Open only regular, readable files (a FIFO would block the audio library for good), and
    translate soundfile and OS errors on a source into :class:`SourceError`."""
    check_source_file(path)
    try:
        yield
    except FileNotFoundError as exc:
        raise SourceError(f"source = {str(path)!r}: no such file") from exc
    except IsADirectoryError as exc:
        raise SourceError(f"source = {str(path)!r}: is a folder, not an audio file") from exc
    except PermissionError as exc:
        raise SourceError(f"source = {str(path)!r}: not readable (permission denied)") from exc
    except sf.LibsndfileError as exc:
        raise SourceError(f"source = {str(path)!r}: not a readable audio file ({exc.error_string})") from exc
    except (RuntimeError, OSError) as exc:
        raise SourceError(f"source = {str(path)!r}: cannot be read ({exc})") from exc


def check_source_file(path: Path) -> None:
    """Refuse, without opening it, anything but a regular file this process may read."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise SourceError(f"source = {str(path)!r}: no such file") from None
    except PermissionError:
        raise SourceError(f"source = {str(path)!r}: cannot be reached (a folder on its path is not"
                          " readable)") from None
    except (OSError, ValueError) as exc:
        raise SourceError(f"source = {str(path)!r}: cannot be read ({exc})") from None
    if stat.S_ISDIR(mode):
        raise SourceError(f"source = {str(path)!r}: is a folder, not an audio file")
    if not stat.S_ISREG(mode):
        raise SourceError(f"source = {str(path)!r}: is not a regular file (a FIFO, socket or device);"
                          " only audio files are read")
    if not os.access(path, os.R_OK):
        raise SourceError(f"source = {str(path)!r}: not readable (permission denied)")


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Read a source's header. Raises :class:`SourceError` for anything that is not usable audio."""
    p = Path(path)
    check_source_file(p)
    if p.stat().st_size == 0:
        raise SourceError(f"source = {str(p)!r}: the file is empty")
    with _reading(p):
        info = sf.info(str(p))
    frames = int(info.frames)
    if frames <= 0 or frames == (1 << 63) - 1 or info.samplerate <= 0 or info.channels <= 0:
        if frames == (1 << 63) - 1:
            frames = _count_frames(p)
        if frames <= 0 or info.samplerate <= 0 or info.channels <= 0:
            raise SourceError(f"source = {str(p)!r}: holds no audio frames")
    return AudioInfo(p, int(info.samplerate), frames, int(info.channels), str(info.format), str(info.subtype))


def _count_frames(path: Path) -> int:
    """Frame count for formats whose header does not state it (some MP3s): decode and count."""
    total = 0
    with _reading(path), sf.SoundFile(str(path)) as f:
        for block in f.blocks(blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True):
            total += len(block)
    return total


def read_frames(info: AudioInfo, start: int, stop: int, *, native: bool = False) -> NDArray[Any]:
    """Read frames ``[start, stop)`` of a source, seeking rather than reading the whole file.

    Parameters
    ----------
    info : AudioInfo
    start, stop : int
        Frame range, clamped to the file.
    native : bool
        ``True`` returns the file's native sample type (see :attr:`AudioInfo.native_dtype`),
        ``False`` float32.

    Returns
    -------
    np.ndarray [shape=(frames, channels)]
    """
    start, stop = max(0, start), min(info.frames, stop)
    out = np.empty((max(0, stop - start), info.channels), info.native_dtype if native else "float32")
    pool = side_pool()
    if pool is None or info.lossy or len(out) < 2 * MIN_SPLIT_FRAMES:
        return out[: _read_into(info, start, out)]
    # two halves side by side, each seeking to its own start: PCM and FLAC seek exactly
    half = len(out) // 2
    second = pool.submit(_read_into, info, start + half, out[half:])
    got = _read_into(info, start, out[:half])
    got_second = second.result()
    return out[: got if got < half else half + got_second]


def _read_into(info: AudioInfo, at: int, out: NDArray[Any]) -> int:
    """Read ``len(out)`` frames from frame ``at`` into ``out``; returns how many the file held."""
    with _reading(info.path), sf.SoundFile(str(info.path)) as f:
        if at:
            f.seek(at)
        return len(f.read(len(out), dtype=out.dtype.name, always_2d=True, out=out))


def to_float(native: NDArray[np.generic]) -> NDArray[np.float32]:
    """Native samples to float32 in [-1, 1), exactly as libsndfile scales them.

    The integer is rounded to float32 once and scaled by a power of two, which is exact.
    """
    if native.dtype == np.int16:
        return native.astype(np.float32) * np.float32(1.0 / (1 << 15))
    if native.dtype == np.int32:
        return native.astype(np.float32) * np.float32(1.0 / (1 << 31))
    return native.astype(np.float32)


def from_float(x: NDArray[np.floating], dtype: str | np.dtype[np.generic], *, subtype: str) -> NDArray[np.generic]:
    """Float samples to a native sample type, rounded to the subtype's resolution and clipped.

    24-bit PCM lives in the top 24 bits of an ``int32``; its low byte stays zero so that
    writing it back does not depend on libsndfile's rounding. Up to 24 bits the work is
    exact in float32; 32-bit PCM goes through float64.

    Raises
    ------
    AudioParameterError
        When ``x`` holds NaN or infinite samples, which have no sample value.
    """
    if not np.isfinite(x).all():
        raise AudioParameterError("audio to write: holds NaN or infinite samples")
    target = np.dtype(dtype)
    if target.kind == "f":
        return x.astype(target)
    bits = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32}.get(subtype)
    if bits is None:
        raise AudioParameterError(f"subtype = {subtype!r}: no integer form")
    work = np.float32 if bits <= 24 and x.dtype == np.float32 else np.float64
    scale = work(1 << (bits - 1))
    q = np.rint(x * scale, dtype=work)
    np.clip(q, -scale, scale - 1, out=q)
    wide = np.int32 if work is np.float32 else np.int64
    out: NDArray[np.generic] = (q.astype(wide) << (8 * target.itemsize - bits)).astype(target, copy=False)
    return out


def take_format(info: AudioInfo, suffix: str | None = None) -> tuple[str, str, str]:
    """Container, subtype and file suffix for a take of ``info``.

    A lossless source keeps its container and subtype (``suffix`` may ask for another
    lossless container); a lossy one becomes 32-bit float WAV.
    """
    if suffix:
        fmt = _FORMAT_BY_SUFFIX.get(suffix.lower())
        if fmt is None:
            raise OutputError(f"output suffix = {suffix!r}: use .wav, .flac, .aif/.aiff, .w64, .rf64 or .caf")
        subtype = info.subtype if not info.lossy else "FLOAT"
        if not sf.check_format(fmt, subtype):
            raise OutputError(f"output suffix = {suffix!r}: {fmt} cannot hold the source's {subtype} samples exactly")
        return fmt, subtype, suffix.lower()
    if info.lossy or info.format not in _SUFFIX_BY_FORMAT:
        return "WAV", "FLOAT" if info.lossy else info.subtype, ".wav"
    return info.format, info.subtype, _SUFFIX_BY_FORMAT[info.format]


_FORMAT_BY_SUFFIX = {".wav": "WAV", ".flac": "FLAC", ".aif": "AIFF", ".aiff": "AIFF", ".w64": "W64",
                     ".rf64": "RF64", ".caf": "CAF"}
_SUFFIX_BY_FORMAT = {"WAV": ".wav", "WAVEX": ".wav", "FLAC": ".flac", "AIFF": ".aiff", "W64": ".w64",
                     "RF64": ".wav", "CAF": ".caf"}


def link_new(tmp: Path, wanted: Path, *, replace: bool = False) -> Path:
    """Move ``tmp`` to ``wanted`` atomically; on a name clash pick ``stem-2``, ``stem-3``, ...

    A name whose manifest (``<name>.json``) exists counts as taken too, so a take and its
    manifest never land on anything already there. ``replace`` allows overwriting
    ``wanted`` itself (used only when the user asked for it).
    Hard links make the claim of a name atomic; file systems without them fall back to a
    checked rename.
    """
    if replace:
        os.replace(tmp, wanted)
        return wanted
    candidate = wanted
    for n in range(2, 100000):
        if candidate.with_name(candidate.name + ".json").exists():
            candidate = wanted.with_name(f"{wanted.stem}-{n}{wanted.suffix}")
            continue
        try:
            os.link(tmp, candidate)
        except FileExistsError:
            candidate = wanted.with_name(f"{wanted.stem}-{n}{wanted.suffix}")
            continue
        except OSError:
            if candidate.exists():
                candidate = wanted.with_name(f"{wanted.stem}-{n}{wanted.suffix}")
                continue
            os.replace(tmp, candidate)
            return candidate
        os.unlink(tmp)
        return candidate
    raise OutputError(f"output = {str(wanted)!r}: no free name left beside it")


def write_take(
    wanted: Path,
    write: Callable[[sf.SoundFile], None],
    *,
    sr: int,
    channels: int,
    fmt: str,
    subtype: str,
    replace: bool = False,
) -> Path:
    """Write a take through ``write`` into a temp file, then link it into place. Returns its path."""
    folder = wanted.parent
    with temp_in(folder, wanted.suffix) as tmp:
        try:
            with sf.SoundFile(str(tmp), "w", samplerate=sr, channels=channels, format=fmt, subtype=subtype) as f:
                write(f)
        except (sf.LibsndfileError, OSError) as exc:
            raise OutputError(f"output = {str(wanted)!r}: cannot be written ({exc})") from exc
        return link_new(tmp, wanted, replace=replace)


def stream_copy_with(
    info: AudioInfo, out: sf.SoundFile, start: int, replacement: NDArray[np.generic]
) -> None:
    """Copy the whole source into ``out`` block by block, with ``replacement`` at ``start``.

    Memory stays at one block whatever the source's length.
    """
    stop = start + len(replacement)
    dtype = info.native_dtype
    with _reading(info.path), sf.SoundFile(str(info.path)) as f:
        pos = 0
        for block in f.blocks(blocksize=BLOCK_FRAMES, dtype=dtype, always_2d=True):
            end = pos + len(block)
            lo, hi = max(pos, start), min(end, stop)
            if lo < hi:
                block = block.copy()
                block[lo - pos : hi - pos] = replacement[lo - start : hi - start]
            out.write(block)
            pos = end


def encode_wav(x: NDArray[np.floating], sr: int) -> bytes:
    """Encode float audio [shape=(frames, channels)] as an in-memory 16-bit PCM WAV file.

    This is what the hosted engines are sent: the models work at 16 bits, and a plain WAV
    decodes everywhere. Values are scaled as libsndfile does (1.0 = 32768), rounded and
    clipped, a block at a time straight into the file's bytes.
    """
    frames, channels = (x.shape[0], x.shape[1]) if x.ndim == 2 else (x.shape[0], 1)
    size = frames * channels * 2
    out = np.empty(44 + size, np.uint8)  # not zeroed first: every byte is written below
    out[:44] = np.frombuffer(struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + size, b"WAVE", b"fmt ", 16, 1,
                                         channels, sr, sr * channels * 2, channels * 2, 16, b"data", size), np.uint8)
    pcm = out[44:].view("<i2").reshape(frames, channels)
    block = np.empty((max(1, min(frames, BLOCK_FRAMES // 4)), channels), np.float32)
    for at in range(0, frames, len(block)):
        part = block[: min(len(block), frames - at)]
        part[...] = x[at : at + len(part)].reshape(len(part), channels)
        part *= np.float32(32768.0)
        np.rint(part, out=part)
        np.clip(part, -32768, 32767, out=part)
        pcm[at : at + len(part)] = part
    return out.tobytes()


_ENCODINGS = {"flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III")}


def encode_bytes(x: NDArray[np.floating], sr: int, fmt: str) -> bytes:
    """Encode audio [shape=(frames, channels)] as an in-memory ``wav``, ``flac``, ``ogg`` or ``mp3`` file."""
    if fmt == "wav":
        return encode_wav(x, sr)
    if fmt not in _ENCODINGS:
        raise AudioParameterError(f"format = {fmt!r}: use wav, flac, ogg or mp3")
    container, subtype = _ENCODINGS[fmt]
    buf = io.BytesIO()
    sf.write(buf, np.clip(x, -1.0, 1.0), sr, format=container, subtype=subtype)
    return buf.getvalue()


class EncodedAudio:
    """An audio file held as a service sent it, decoded where it is read.

    The bytes are kept in a file of their own (in memory where the system allows), so that
    libsndfile reads them without calling back into Python: a decode runs beside the event
    loop instead of queueing for the interpreter between every read. Slicing it decodes
    those frames: WAV and FLAC seek to the exact frame, so only the frames asked for are
    decoded, a long stretch in two halves side by side; other formats are decoded whole
    when opened.
    """

    PARTIAL = frozenset({"WAV", "WAVEX", "FLAC"})

    def __init__(self, data: bytes) -> None:
        """Read the header and the last frame (or decode whole a format that cannot be read in part).

        Raises :class:`AudioParameterError` when the bytes are no audio file, are cut short or
        hold no frames.
        """
        self.path = _spill(self, data)
        self._whole: NDArray[np.float32] | None = None
        with _decoding(), sf.SoundFile(self.path) as f:
            self.sr, self.channels, self.format = int(f.samplerate), int(f.channels), str(f.format)
            self.frames = int(f.frames) if f.format in self.PARTIAL else 0
            if self.frames <= 0:  # a stream of unknown length, or a codec whose seeking is approximate
                self._whole = np.asarray(f.read(dtype="float32", always_2d=True), dtype=np.float32)
                self.frames = len(self._whole)
            elif not _last_frame_read(f):  # a file cut short fails here, not later in the fit
                raise AudioParameterError(f"returned audio: ends before the {self.frames} frames its header"
                                          " promises (cut short)")
        if self.frames == 0:
            raise AudioParameterError("returned audio: holds no frames")

    def __len__(self) -> int:
        """Frames, as for the samples it decodes to."""
        return self.frames

    def __getitem__(self, frames: slice) -> NDArray[np.float32]:
        """Frames ``[start, stop)`` [shape=(frames, channels)], and only those decoded.

        Raises :class:`AudioParameterError` when the file is damaged or shorter than its
        header says.
        """
        lo, hi, step = frames.indices(self.frames)
        if step != 1:
            raise ValueError(f"frames = {frames}: an answer is read in whole frames, without a step")
        if self._whole is not None:
            return self._whole[lo:hi]
        out = np.empty((max(0, hi - lo), self.channels), np.float32)
        pool = side_pool()
        with _decoding():
            if pool is None or self.format != "FLAC" or len(out) < 2 * MIN_SPLIT_FRAMES:
                self._decode_into(out, lo)
            else:  # FLAC is the slow one: halves side by side
                half = len(out) // 2
                second = pool.submit(self._decode_into, out[half:], lo + half)
                self._decode_into(out[:half], lo)
                second.result()
        return out

    def decode(self) -> NDArray[np.float32]:
        """The whole answer [shape=(frames, channels)]."""
        return self[:]

    def _decode_into(self, out: NDArray[np.float32], at: int) -> None:
        with sf.SoundFile(self.path) as f:
            f.seek(at)
            got = len(f.read(len(out), dtype="float32", always_2d=True, out=out))
        if got != len(out):
            raise RuntimeError(f"{got} frames from frame {at} where the header promises {len(out)}")


def _spill(owner: object, data: bytes) -> str:
    """A path that reads as ``data``, for as long as ``owner`` lives: an anonymous in-memory file
    where the system has them (each open of its path gets an offset of its own), else a temporary
    file that is removed with ``owner``."""
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create("inpaint-answer", os.MFD_CLOEXEC)
        weakref.finalize(owner, os.close, fd)
        with open(fd, "wb", closefd=False) as f:
            f.write(data)
        return f"/proc/self/fd/{fd}"
    fd, path = tempfile.mkstemp(prefix="inpaint-answer-")
    weakref.finalize(owner, _remove, path)
    with open(fd, "wb") as f:
        f.write(data)
    return path


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


TAIL_FRAMES = 8192
"""Frames read at the end of an answer to see it is whole: a FLAC seek to the very last frame
searches the whole file (tens of ms), one to a block or two before it is direct."""


def _last_frame_read(f: sf.SoundFile) -> bool:
    frames = int(f.frames)
    tail = min(frames, TAIL_FRAMES)
    try:
        f.seek(frames - tail)
        return len(f.read(tail)) == tail
    except (sf.LibsndfileError, RuntimeError):
        return False


@contextlib.contextmanager
def _decoding() -> Iterator[None]:
    try:
        yield
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioParameterError(f"returned audio: cannot be decoded ({exc})") from exc


def decode_bytes(data: bytes) -> tuple[NDArray[np.float32], int]:
    """Decode an audio file held in memory (WAV, FLAC, Ogg, MP3) to float32 frames."""
    audio = EncodedAudio(data)
    return audio.decode(), audio.sr


def seconds_to_frame(seconds: float, sr: int) -> int:
    """The frame at ``seconds``, rounded to the nearest sample."""
    return int(math.floor(seconds * sr + 0.5))
