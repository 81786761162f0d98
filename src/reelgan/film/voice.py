"""Temp dialogue: every subtitle cue spoken by espeak-ng, one stable voice per character, over quiet room tone.

espeak-ng is formant synthesis (rules and a source-filter model, no trained network and no recordings), so
its speech is IPTC `algorithmicMedia`. The `espeakng-loader` package (the `voice` extra) ships its shared
library and data; nothing is downloaded at run time. No registry package offers speech synthesis over that
bundled library (espeakng-loader only gives its paths; `espeakng` runs an espeak-ng program installed on the
system, `espeak-ng-python` compiles against a system library, and phonemizer's binding turns text into
phonemes), so `_Espeak` below binds the few C functions of `speak_lib.h` that synthesis needs through
ctypes. It is the one place that knows the C API.

A character's voice is one of a few espeak-ng variants at one of a few pitches, chosen by hashing the
speaker's name (`cast_voices`), so a character sounds the same in every scene and in every render. The
narrator has a voice of its own. Each cue is synthesised once (`Dialogue`), and its length times the cue
(see `plan.plan_film`'s `speech_seconds`); `speech_track` mixes the lines at their cues' starts over room
tone at `MIX_RATE`, and `write_wav` writes each line as a labelled WAV for editors.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import itertools
import os
import re
import struct
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ReelganError
from ..provenance import check_record, record_json
from .plan import Subtitle

ENGINE = "espeak-ng"
VOICE_EXTRA = "pip install 'reelgan[voice]'"
MISSING = f"--voice needs the espeakng-loader package; install it with {VOICE_EXTRA}"
VOICE_SUFFIX = ".voice"          # FILM.mp4 -> FILM.voice/ holds one WAV per cue
MIX_RATE = 48_000                # Hz of the film's audio track and of the WAVs
WORDS_PER_MINUTE = 160           # espeak-ng's speaking rate (its default is 175; reading speed is ~150)
LANGUAGE = "en-us"
# espeak-ng-data/voices/!v variants characters are drawn from (m: male, f: female; the klatt, whisper and
# novelty variants are left out) and the base pitches they are spoken at (espeak's 0-100 scale, default 50)
VARIANTS = ("m1", "f1", "m3", "f2", "m4", "f3", "m6", "f4", "m7")
PITCHES = (38, 44, 50, 56, 62)
NARRATOR_NAMES = frozenset({"NARRATOR", "THE NARRATOR", "ANNOUNCER"})
SILENCE = 64                     # int16 magnitude (about -54 dBFS) below which the ends of a line are trimmed
ROOM_TONE_DBFS = -50.0           # RMS level of the room tone under the speech, dB relative to full scale
ROOM_TONE_LOOP = 8.0             # seconds of pink noise, repeated (FFT-made noise repeats without a click)
ROOM_TONE_SEED = 20_240_917      # fixed, so that renders repeat
BLOCK = MIX_RATE                 # samples per block of the mixed track (1 second)


@dataclass(frozen=True)
class Voice:
    """One espeak-ng voice: a language voice, a variant of `voices/!v`, and a base pitch (0-100)."""

    language: str
    variant: str
    pitch: int

    @property
    def name(self) -> str:
        """The name `espeak_SetVoiceByName` takes, e.g. en-us+f2."""
        return f"{self.language}+{self.variant}"

    @property
    def label(self) -> str:
        """How the authorship record names the voice, e.g. en-us+f2 pitch 56."""
        return f"{self.name} pitch {self.pitch}"


NARRATOR = Voice("en-gb-x-rp", "m2", 44)


# ---------------------------------------------------------------------------------------------------
# The C binding (speak_lib.h, espeak_ng.h)

AUDIO_OUTPUT_SYNCHRONOUS = 2     # espeak_AUDIO_OUTPUT: synthesise inside espeak_Synth, samples to the callback
INITIALIZE_DONT_EXIT = 0x8000    # report a missing data folder as an error instead of exiting the process
POS_CHARACTER = 1                # espeak_POSITION_TYPE
CHARS_UTF8 = 1                   # espeak_Synth flags: the text is UTF-8 (not SSML, not phonemes)
PARAM_RATE, PARAM_PITCH = 1, 3   # espeak_PARAMETER: words per minute; base pitch 0-100
EE_OK = 0
_NO_VOICE, _CHILD_FAILED = 3, 4  # exit statuses of a synthesising child
# int callback(short *wav, int numsamples, espeak_EVENT *events): 0 to go on, 1 to stop
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    """libespeak-ng through ctypes.

    The library keeps process-wide state, and some of it carries from one utterance to the next (the
    phase of its pitch flutter and of its voicing), so the same line said twice in one process comes out
    slightly different. To make every line a function of its text and voice alone, this process only
    initialises the library; each line is synthesised in a forked child, which starts from that untouched
    state and sends its samples back through a pipe. Where there is no fork (Windows), lines are
    synthesised here, one at a time (`_lock`), and repeat only when said in the same order.
    """

    def __init__(self, library: str, data: str):
        try:
            lib = ctypes.CDLL(library)
        except OSError as exc:
            raise ReelganError(f"--voice could not load espeak-ng's library {library}: {exc}") from None
        c_int, c_uint = ctypes.c_int, ctypes.c_uint
        lib.espeak_Initialize.argtypes = [c_int, c_int, ctypes.c_char_p, c_int]
        lib.espeak_Initialize.restype = c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [c_int, c_int, c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, c_uint, c_int, c_uint, c_uint,
                                     ctypes.POINTER(c_uint), ctypes.c_void_p]
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        # buffer length 0: espeak's default chunk (60 ms) per callback; returns the sample rate in Hz
        self.rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(), INITIALIZE_DONT_EXIT)
        if self.rate <= 0:
            raise ReelganError(f"--voice could not start espeak-ng with its data in {data}")
        self._chunks: list[np.ndarray] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # kept referenced: the library holds only a pointer
        lib.espeak_SetSynthCallback(self._callback)
        self.version = (lib.espeak_Info(None) or b"").decode("ascii", "replace").split()[0]
        self._lib, self._lock = lib, threading.Lock()

    def _collect(self, wav, count: int, events) -> int:
        """The synthesis callback: keep `count` 16-bit mono samples (wav is NULL when synthesis ends)."""
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def speak(self, text: str, voice: Voice, words_per_minute: int = WORDS_PER_MINUTE) -> np.ndarray:
        """`text` spoken in `voice`: (N,) int16 mono at `self.rate` Hz, the same whatever was said before."""
        if not hasattr(os, "fork"):
            with self._lock:
                return self._synthesise(text, voice, words_per_minute)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: synthesise, send the samples, and leave without running any exit handlers
            status = _CHILD_FAILED
            try:
                os.close(read_end)
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(self._synthesise(text, voice, words_per_minute).tobytes())
                status = 0
            except ReelganError:
                status = _NO_VOICE
            finally:
                os._exit(status)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()  # until the child closes its end
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        if status == _NO_VOICE:
            raise ReelganError(f"espeak-ng has no voice {voice.name}")
        if status != 0:
            raise ReelganError(f"espeak-ng could not speak {text!r} (exit status {status})")
        return np.frombuffer(data, np.int16).copy()

    def _synthesise(self, text: str, voice: Voice, words_per_minute: int) -> np.ndarray:
        """One line through the library, in this process: (N,) int16 at `self.rate` Hz."""
        lib, encoded = self._lib, text.encode("utf-8") + b"\0"
        if lib.espeak_SetVoiceByName(voice.name.encode()) != EE_OK:
            raise ReelganError(f"espeak-ng has no voice {voice.name}")
        lib.espeak_SetParameter(PARAM_RATE, words_per_minute, 0)  # after the voice, which resets them
        lib.espeak_SetParameter(PARAM_PITCH, voice.pitch, 0)
        lib.espeak_ng_SetRandSeed(1)  # the seed of its noise sources (breath, fricatives)
        self._chunks = []
        status = lib.espeak_Synth(encoded, len(encoded), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        chunks, self._chunks = self._chunks, []
        if status != EE_OK:
            raise RuntimeError(f"espeak_Synth returned {status} for {text!r}")
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


def load_engine() -> _Espeak:
    """The speech engine; ReelganError with the install line when espeakng-loader is not installed."""
    try:
        import espeakng_loader
    except ImportError:
        raise ReelganError(MISSING) from None
    return _engine(espeakng_loader.get_library_path(), espeakng_loader.get_data_path())


@functools.cache
def _engine(library: str, data: str) -> _Espeak:
    """One engine per library: espeak_Initialize sets up process-wide state."""
    return _Espeak(library, data)


# ---------------------------------------------------------------------------------------------------
# Voices and lines


def _rank(name: str, voice: Voice) -> bytes:
    """How much `name` prefers `voice` (lowest first): a hash of both, stable across runs and machines."""
    return hashlib.sha256(f"{name}|{voice.variant}|{voice.pitch}".encode()).digest()


def cast_voices(speakers: Iterable[str]) -> dict[str, Voice]:
    """A voice per speaker. Each name ranks every voice by a hash of the name and the voice, and takes its
    first choice that no other speaker has, preferring a variant no one has yet (pitch alone is a small
    difference). Names are served in sorted order, not in order of appearance, so moving scenes about
    changes no voice, and adding a character changes another's only where their choices collide. The
    narrator always gets `NARRATOR`."""
    voices = [Voice(LANGUAGE, variant, pitch) for variant, pitch in itertools.product(VARIANTS, PITCHES)]
    cast: dict[str, Voice] = {}
    for name in sorted(set(speakers)):
        if name.upper() in NARRATOR_NAMES:
            cast[name] = NARRATOR
            continue
        ranked = sorted(voices, key=lambda voice: _rank(name, voice))
        taken = set(cast.values())
        variants = {voice.variant for voice in taken}
        fresh = [v for v in ranked if v.variant not in variants] or [v for v in ranked if v not in taken]
        cast[name] = (fresh or ranked)[0]
    return cast


def _trim(samples: np.ndarray) -> np.ndarray:
    """A line without the near-silence espeak leaves before and after it, so that it starts on its cue."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= SILENCE)
    return samples[loud[0]:loud[-1] + 1] if loud.size else samples[:0]


def resample(samples: np.ndarray, rate: int, to_rate: int = MIX_RATE) -> np.ndarray:
    """(N,) int16 mono at `rate` Hz -> (M,) float32 in [-1, 1] at `to_rate` Hz (libswresample, through PyAV)."""
    import av

    if samples.size == 0:
        return np.zeros(0, np.float32)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, np.int16)[None, :], format="s16",
                                       layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=to_rate)
    frames = resampler.resample(frame) + resampler.resample(None)  # None flushes its filter's tail
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32)


class Dialogue:
    """The film's spoken lines: each (speaker, text) synthesised once, in its speaker's voice."""

    def __init__(self, engine: _Espeak, speakers: Iterable[str]):
        self.engine = engine
        self.voices = cast_voices(speakers)
        self._spoken: dict[tuple[str, str], np.ndarray] = {}

    def voice(self, speaker: str) -> Voice:
        """The speaker's voice (a speaker the script did not list is cast on first use)."""
        if speaker not in self.voices:
            self.voices = cast_voices([*self.voices, speaker]) | self.voices
        return self.voices[speaker]

    def speech(self, speaker: str, text: str) -> np.ndarray:
        """The line as the engine made it: (N,) int16 mono at `engine.rate` Hz, trimmed."""
        key = (speaker, text)
        if key not in self._spoken:
            self._spoken[key] = _trim(self.engine.speak(text, self.voice(speaker)))
        return self._spoken[key]

    def seconds(self, speaker: str, text: str) -> float:
        """How long the line takes to say, in seconds (what `plan_film` times cues with)."""
        return len(self.speech(speaker, text)) / self.engine.rate

    def line(self, subtitle: Subtitle) -> np.ndarray:
        """A cue's speech as it is mixed and written: (M,) float32 at MIX_RATE Hz."""
        return resample(self.speech(subtitle.speaker, subtitle.text), self.engine.rate)

    def voiced_by(self, speaker: str) -> dict:
        """What the authorship record says spoke a line."""
        return {"engine": ENGINE, "version": self.engine.version, "voice": self.voice(speaker).label,
                "kind": "algorithmic"}


# ---------------------------------------------------------------------------------------------------
# The mixed track and the files


@functools.cache
def room_tone(seconds: float = ROOM_TONE_LOOP, rate: int = MIX_RATE) -> np.ndarray:
    """Seeded pink noise (power falling 3 dB an octave, nothing below 20 Hz) at ROOM_TONE_DBFS RMS: (N,)
    float32. Made in the frequency domain, so it is periodic and repeats seamlessly."""
    n = round(seconds * rate)
    rng = np.random.default_rng(ROOM_TONE_SEED)
    frequencies = np.fft.rfftfreq(n, 1 / rate)  # Hz
    spectrum = rng.standard_normal(frequencies.size) + 1j * rng.standard_normal(frequencies.size)
    spectrum *= np.where(frequencies >= 20, 1 / np.sqrt(np.maximum(frequencies, 1)), 0)
    noise = np.fft.irfft(spectrum, n)
    noise *= 10 ** (ROOM_TONE_DBFS / 20) / np.sqrt(np.mean(noise ** 2))
    return noise.astype(np.float32)


def speech_track(dialogue: Dialogue, subtitles: list[Subtitle], seconds: float) -> Iterator[np.ndarray]:
    """The film's audio, `seconds` long, as (BLOCK,) float32 blocks at MIX_RATE Hz (the last one shorter):
    room tone, and each cue's line from the cue's start. Lines are resampled only when their block comes,
    so a long film does not hold all its speech at 48 kHz at once."""
    total = round(seconds * MIX_RATE)
    tone = room_tone()
    pending = sorted(subtitles, key=lambda s: s.start)
    playing: list[tuple[int, np.ndarray]] = []  # (first sample, line)
    for first in range(0, total, BLOCK):
        end = min(total, first + BLOCK)
        block = np.take(tone, np.arange(first, end), mode="wrap")
        while pending and round(pending[0].start * MIX_RATE) < end:
            cue = pending.pop(0)
            playing.append((round(cue.start * MIX_RATE), dialogue.line(cue)))
        for start, line in playing:
            a, b = max(start, first), min(start + len(line), end)
            if a < b:
                block[a - first:b - first] += line[a - start:b - start]
        playing = [(start, line) for start, line in playing if start + len(line) > end]
        yield np.clip(block, -1.0, 1.0)


def voice_folder(mp4: Path) -> Path:
    """Where the per-line WAVs of `mp4` go."""
    return mp4.with_name(mp4.stem + VOICE_SUFFIX)


def line_name(index: int, speaker: str) -> str:
    """NNN-SPEAKER.wav for the film's cue `index` (0-based), the name reduced to ASCII letters, digits and -."""
    ascii_name = unicodedata.normalize("NFKD", speaker).encode("ascii", "ignore").decode()
    return f"{index:03d}-{re.sub(r'[^A-Za-z0-9]+', '-', ascii_name).strip('-') or 'SPEAKER'}.wav"


def _chunk(tag: bytes, payload: bytes) -> bytes:
    """A RIFF chunk: tag, little-endian size, payload padded to an even length."""
    return tag + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) % 2)


def write_wav(path: Path, samples: np.ndarray, rate: int, record: dict) -> None:
    """(N,) float32 mono in [-1, 1] to a 16-bit PCM WAV at `rate` Hz whose INFO chunk carries `record`
    (ICMT, JSON) and the software (ISFT), as the other media writers label their files."""
    check_record(record)
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)  # PCM, mono, Hz, bytes/s, block align, bits
    info = b"INFO" + _chunk(b"ISFT", record["software"].encode() + b"\0") + _chunk(
        b"ICMT", record_json(record).encode() + b"\0")
    body = b"WAVE" + _chunk(b"fmt ", fmt) + _chunk(b"LIST", info) + _chunk(b"data", pcm)
    path.write_bytes(_chunk(b"RIFF", body))
