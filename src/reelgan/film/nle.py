"""The film's timeline for editors: OpenTimelineIO, and through its adapters an .otioz bundle, Final Cut 7 XML
(what Premiere imports) and a CMX 3600 EDL.

One timeline, built once: a clip per shot, dissolves between them, dialogue as markers on their clips. With
per-shot media (shots.py) each clip points at its own file, trimmed to the cut, its handles left for the
dissolves; without it, each clip points at its stretch of the film's MP4. A voiced film (--voice) also has
an audio track, A1: each cue's WAV (FILM.voice/) as a clip from the cue's first frame, gaps between them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from ..errors import ReelganError
from .plan import frame_at
from .shots import ShotMedia, cut_frames
from .types import EXPORTS, Film
from .voice import ENGINE, VOICE_SUFFIX, line_name

NLE_EXTRA = "pip install 'reelgan[nle]'"


TIMECODE_RATES = (24, 25, 30, 48, 50, 60)  # whole-number rates SMPTE timecode (XML, EDL) can count in


def check_exports(names: list[str], fps: int, shots: bool) -> None:
    """ReelganError for an unknown export, one whose adapter is not installed (with the install line), a
    frame rate the XML and EDL's timecode cannot count in, or a bundle without per-shot media."""
    import opentimelineio as otio

    installed = {adapter.name for adapter in otio.plugins.ActiveManifest().adapters}
    for name in names:
        if name not in EXPORTS:
            raise ReelganError(f"--export {name} is not a timeline format; choose from {', '.join(EXPORTS)}")
        _, adapter, package = EXPORTS[name]
        if adapter not in installed:
            raise ReelganError(f"--export {name} needs the {package} adapter; install it with {NLE_EXTRA}")
        if name == "otioz" and not shots:
            raise ReelganError("--export otioz bundles the per-shot media; add --shots")
        if name != "otioz" and fps not in TIMECODE_RATES:
            raise ReelganError(f"--export {name} needs a frame rate timecode counts in "
                               f"({', '.join(map(str, TIMECODE_RATES))}); got --fps {fps}")


def build_timeline(film: Film, media_url: str, shots: list[ShotMedia] | None = None, shot_url=None,
                   voice_url: Callable[[str], str] | None = None):
    """The cut as an OpenTimelineIO Timeline. `shot_url(media)` gives each shot file's URL (default: its
    path relative to the film's folder); without `shots` every clip points at `media_url`, the film's MP4.
    A voiced film gets an audio track whose clips point at `voice_url(WAV name)` (default: FILM.voice/NAME
    beside `media_url`)."""
    import opentimelineio as otio

    fps = film.options.fps
    rational, time_range = otio.opentime.RationalTime, otio.opentime.TimeRange
    timeline = otio.schema.Timeline(name=film.script.stem)
    timeline.global_start_time = rational(0, fps)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    half = round(film.options.fade / 2 * fps)
    for index, shot in enumerate(film.shots):
        first, end = cut_frames(film, index)
        if index and half:
            track.append(otio.schema.Transition(
                name="dissolve", transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                in_offset=rational(half, fps), out_offset=rational(half, fps)))
        if shots is None:  # the clip is its stretch of the whole film
            reference = otio.schema.ExternalReference(
                target_url=media_url, available_range=time_range(rational(0, fps), rational(film.frame_count, fps)))
            media_start = first
        else:
            media = shots[index]
            url = shot_url(media) if shot_url else f"{media.mp4.parent.name}/{media.mp4.name}"
            reference = otio.schema.ExternalReference(
                target_url=url, available_range=time_range(rational(0, fps), rational(media.frames, fps)))
            reference.name = media.mp4.stem
            media_start = media.handle_before
        name = shot.heading if shot.kind != "credits" else "Credits"
        clip = otio.schema.Clip(name=f"{index:03d} {shot.kind}: {name}", media_reference=reference,
                                source_range=time_range(rational(media_start, fps), rational(end - first, fps)))
        clip.metadata["reelgan"] = {"kind": shot.kind, "scene": shot.scene, "seed": shot.seed,
                                    "picture": film.parts[index].what, "maker": film.parts[index].maker}
        for subtitle in shot.subtitles:
            offset = media_start + frame_at(subtitle.start, fps) - first  # markers are in the clip's media time
            length = max(1, frame_at(subtitle.end, fps) - frame_at(subtitle.start, fps))
            clip.markers.append(otio.schema.Marker(
                name=f"{subtitle.speaker}: {subtitle.text}",
                marked_range=time_range(rational(offset, fps), rational(length, fps))))
        track.append(clip)
    if film.dialogue is not None:
        folder = PurePosixPath(media_url).stem + VOICE_SUFFIX
        timeline.tracks.append(_voice_track(film, voice_url or (lambda name: f"{folder}/{name}")))
    return timeline


def _voice_track(film: Film, voice_url: Callable[[str], str]):
    """The audio track of a voiced film: each cue's WAV from the cue's first frame, for as many frames as its
    speech lasts (rounded up, and never into the next cue), with gaps between and up to the film's end."""
    import opentimelineio as otio

    fps = film.options.fps
    rational, time_range = otio.opentime.RationalTime, otio.opentime.TimeRange
    track = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    cues, clock = film.subtitles, 0  # clock: frames of the track laid so far
    for index, cue in enumerate(cues):
        start = max(clock, frame_at(cue.start, fps))
        until = frame_at(cues[index + 1].start, fps) if index + 1 < len(cues) else film.frame_count
        length = max(1, min(math.ceil(film.dialogue.seconds(cue.speaker, cue.text) * fps), until - start))
        if start > clock:
            track.append(otio.schema.Gap(source_range=time_range(rational(0, fps), rational(start - clock, fps))))
        name = line_name(index, cue.speaker)
        reference = otio.schema.ExternalReference(
            target_url=voice_url(name), available_range=time_range(rational(0, fps), rational(length, fps)))
        reference.name = name
        clip = otio.schema.Clip(name=f"{index:03d} {cue.speaker}", media_reference=reference,
                                source_range=time_range(rational(0, fps), rational(length, fps)))
        clip.metadata["reelgan"] = {"speaker": cue.speaker, "text": cue.text, "engine": ENGINE,
                                    "voice": film.dialogue.voice(cue.speaker).label}
        track.append(clip)
        clock = start + length
    rest = film.frame_count - clock  # frames
    if rest > 0:
        track.append(otio.schema.Gap(source_range=time_range(rational(0, fps), rational(rest, fps))))
    return track


def write_exports(film: Film, names: list[str], staged: dict[str, Path], final: dict[str, Path],
                  shots: list[ShotMedia] | None) -> None:
    """Write each --export next to the staged MP4. The bundle (.otioz) copies the staged shot files in; the
    XML and EDL point at the shot files (or the MP4) where they will lie once the render is in place."""
    import opentimelineio as otio

    for name in names:
        _, adapter, _ = EXPORTS[name]
        if name == "otioz":
            voice = staged.get("voice")
            timeline = build_timeline(film, final["mp4"].name, shots, lambda m: m.mp4.resolve().as_uri(),
                                      lambda line: (voice / line).resolve().as_uri())
        else:  # absolute URLs of where the files will be: editors resolve them there
            folder = final["mp4"].parent.resolve()
            timeline = build_timeline(film, (folder / final["mp4"].name).as_uri(), shots,
                                      lambda m: (folder / final["shots"].name / m.mp4.name).as_uri(),
                                      lambda line: (folder / final["voice"].name / line).as_uri())
            if name == "edl":
                _name_reels(timeline)
        otio.adapters.write_to_file(timeline, str(staged[name]), adapter_name=adapter)


def _name_reels(timeline) -> None:
    """CMX 3600 reels are at most 8 characters: name each after its shot number (the file name stays in the
    EDL's FROM CLIP comments)."""
    for clip in timeline.find_clips():
        clip.metadata.setdefault("cmx_3600", {})["reel"] = f"S{clip.name[:3]}"
