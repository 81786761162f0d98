"""`reelgan film`: a Fountain script to a labelled MP4, with subtitles, a timeline, a contact sheet and credits.

Order of work: read the script and plan the cut (with --voice, speaking every cue first, so that cues and
shots last as long as their speech); read the cast file and load every generator and still; make every
shot's visual; then write all outputs into a staging folder beside the MP4 and move them into
place only when all succeeded, so a failed render leaves nothing behind and replaces nothing.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import ReelganError
from ..paths import output_files, remove_stale_temps, temp_prefix
from ..script.fountain import Screenplay, read_fountain
from .captions import action_caption, ai_label, caption_height
from .cast import read_cast
from .pictures import ShotPictures
from .plan import Shot, plan_film, scene_headings
from .sources import Part, Visual, VisualFactory
from .subtitles import SubtitleBurner
from .types import Film, FilmOptions, Outputs
from .voice import MIX_RATE, Dialogue

__all__ = ["Film", "FilmOptions", "Outputs", "film_frames", "prepare_film", "render_film"]


def prepare_film(script: Path, cast_path: Path | None, options: FilmOptions, feedback: Path | None = None) -> Film:
    """Plan the cut and make every visual (all loading errors happen here, before any file is written); with
    `feedback` (a ratings file, see `feedback.py`) generated shots are steered toward what viewers liked."""
    options.check()
    screenplay = read_fountain(script)
    shots, dialogue = plan_shots(screenplay, options)
    cast = read_cast(cast_path, scene_headings(shots))
    factory = VisualFactory(cast, options.size, options.device, options.hold)
    factory.check()
    steered = {}
    if feedback is not None:
        from .feedback import read_feedback, steer_shots

        steered = steer_shots(shots, cast, factory.generators, read_feedback(feedback, len(shots)))
    visuals: list[Visual] = []
    parts: list[Part] = []
    for index, shot in enumerate(shots[:-1]):
        visual, part = factory.visual(shot, [], steered.get(index))
        visuals.append(visual)
        parts.append(part)
    from .credits import credits_lines

    credits = credits_lines(screenplay, script, parts, voiced=dialogue is not None)
    visual, part = factory.visual(shots[-1], credits)
    return Film(script, shots, visuals + [visual], parts + [part], options, credits, dialogue)


def plan_shots(screenplay: Screenplay, options: FilmOptions) -> tuple[list[Shot], Dialogue | None]:
    """The cut, and with `options.voice` the dialogue whose speech timed it (ReelganError when the speech
    engine is not installed)."""
    if not options.voice:
        return plan_film(screenplay, options.timing), None
    from .voice import load_engine

    dialogue = Dialogue(load_engine(), screenplay.characters())
    return plan_film(screenplay, options.timing, speech_seconds=dialogue.seconds), dialogue


def film_frames(film: Film, pictures: ShotPictures) -> Iterator[np.ndarray]:
    """Every frame of the film in order: (H, W, 3) uint8, cross-faded, subtitled, and watermarked where the
    shot is model-made (`ShotPictures(film, watermark_bits)`; bits None: unmarked).

    The mark goes into each shot's picture before dissolves, subtitles and captions are drawn over it, so
    that the same marked picture serves the film and the shot's own file (`shots.ShotFiles`).
    """
    fps, half = film.options.fps, film.options.fade / 2
    burner = SubtitleBurner(film.options.size) if film.options.burn_subtitles else None
    shots = film.shots
    current = 0
    for index in range(film.frame_count):
        t = (index + 0.5) / fps  # the middle of the frame's time
        while current + 1 < len(shots) and t >= shots[current].end:
            current += 1
        shot = shots[current]
        frame = pictures.at(current, index)
        neighbour = None
        if half > 0 and current + 1 < len(shots) and t > shot.end - half:
            neighbour, weight = current + 1, (t - (shot.end - half)) / (2 * half)
        elif half > 0 and current > 0 and t < shot.start + half:
            neighbour, weight = current - 1, ((shot.start + half) - t) / (2 * half)
        if neighbour is not None:
            other = pictures.at(neighbour, index)
            frame = (frame * (1 - weight) + other * weight).round().astype(np.uint8)
        if burner is not None:
            frame = burner.burn(frame, [s for s in shot.subtitles if s.start <= t < s.end])
        yield _overlays(film, shot, frame, film.parts[current].maker == "model")
        pictures.forget_before(index)


def _overlays(film: Film, shot, frame: np.ndarray, model_made: bool) -> np.ndarray:
    """The action caption and the visible AI label, when asked for."""
    options = film.options
    text = shot.action if options.action_captions and shot.kind == "shot" else ""
    if text:
        frame = action_caption(frame, text)
    if options.label and model_made:
        frame = ai_label(frame, below=caption_height(frame.shape[0], text, frame.shape[1]))
    return frame


def outputs_for(out: Path, overwrite: bool, shots: bool = False, exports: tuple[str, ...] = (),
                voice: bool = False) -> Outputs:
    """The output paths, each checked by `reelgan.paths.output_file` (the shots and voice folders as
    folders); the MP4 must be named .mp4."""
    if out.suffix.lower() != ".mp4":
        raise ReelganError(f"--out {out} must end in .mp4")
    outputs = Outputs(out, shots, tuple(exports), voice)
    paths = outputs.all()
    folders = {"shots": ("per-shot folder", ", or drop --shots"), "voice": ("folder of spoken lines", "")}
    found = {kind: paths.pop(kind) for kind in folders if kind in paths}
    output_files(list(paths.values()), overwrite)
    for kind, folder in found.items():
        if folder.exists() and (not folder.is_dir() or not overwrite):
            what = "a file" if not folder.is_dir() else "already there"
            name, other = folders[kind]
            raise ReelganError(f"the {name} {folder} is {what}; choose another --out, add --overwrite{other}")
    return outputs


# Render speed on a 2-core Xeon (benchmarks/RESULTS.md, "Animatics for editors: one drawing pass"): the 123 s
# benchmark film at 640x360 and 24 fps took 45-51 s as one MP4 with another job on the other core, so about
# 13 million frame pixels drawn, marked and encoded per second; per-shot media and speech added about half.
PIXELS_PER_SECOND = 13e6
SHOTS_COST = 0.5  # per-shot media: about half the film's own time again


def dry_run(script: Path, cast_path: Path | None, options: FilmOptions, shots: bool = False) -> dict:
    """What a render would make, planned without drawing a frame: length, shots and the estimated time."""
    options.check()
    screenplay = read_fountain(script)
    planned, _ = plan_shots(screenplay, options)
    cast = read_cast(cast_path, scene_headings(planned))
    length = planned[-1].end
    frames = round(length * options.fps)
    generated = sum(1 for s in planned if s.kind == "shot" and cast.for_scene(s.scene).kind == "generator")
    seconds = frames * options.width * options.height / PIXELS_PER_SECOND * (1 + SHOTS_COST * shots)
    return {"length_s": round(length, 2), "shots": sum(1 for s in planned if s.kind == "shot"),
            "cards": sum(1 for s in planned if s.kind != "shot"), "generated_shots": generated,
            "scenes": sum(1 for s in planned if s.kind == "title"), "frames": frames,
            "estimated_render_s": round(seconds, 1)}


def render_film(script: Path, out: Path, cast_path: Path | None = None, options: FilmOptions | None = None,
                overwrite: bool = False, signer=None, feedback: Path | None = None, shots: bool = False,
                exports: tuple[str, ...] = (), progress: bool = False) -> dict:
    """Render `script` to `out` (MP4) and its companions; returns the authorship record written beside it.
    `feedback`: a ratings file of an earlier render (see `feedback.py`); `shots`: also each shot as its own
    file in FILM.shots/ (the timeline then points at them); `exports`: editor formats (`types.EXPORTS`).
    With `options.voice` the MP4 has the spoken dialogue and FILM.voice/ one WAV per cue."""
    from ..provenance.c2pa_formats import sidecar_path
    from .companions import write_companions
    from .encode import write_film
    from .nle import check_exports, write_exports
    from .records import film_record, watermark_payload
    from .shots import ShotFiles, with_shot_files
    from .signing import place_sidecars, sign_exports, sign_render

    options = options or FilmOptions()
    check_exports(list(exports), options.fps, shots)
    outputs = outputs_for(out, overwrite, shots, exports, options.voice)
    film = prepare_film(script, cast_path, options, feedback)
    bits = watermark_payload(film) if options.watermark else None
    made_folder = not out.parent.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out.parent)  # staging folders of renders that were killed
    staging = Path(tempfile.mkdtemp(prefix=temp_prefix(out.name), suffix=".tmp", dir=out.parent))
    finished = False
    try:
        final = outputs.all()
        staged = {kind: staging / path.name for kind, path in final.items()}
        record = film_record(film, outputs)
        from ..progress import track

        pictures = ShotPictures(film, bits)
        drawn = film_frames(film, pictures)
        files = ShotFiles(film, staged["shots"], record["provenance"], pictures) if shots else None
        if files is not None:  # one drawing pass: each shot's file is written as the film passes it
            drawn = with_shot_files(drawn, files)
        drawn = track(drawn, film.frame_count, "render", enabled=progress)
        with contextlib.closing(drawn):  # on an error, the shot files still open are closed at once
            frames = write_film(staged["mp4"], drawn, options.size, options.fps, record["provenance"],
                                film.subtitles if options.soft_subtitles else None, audio=_audio(film),
                                audio_rate=MIX_RATE)
        if frames != film.frame_count:  # pragma: no cover - a bug, not a user error
            raise RuntimeError(f"wrote {frames} frames, planned {film.frame_count}")
        if film.dialogue is not None:
            _write_lines(film, staged["voice"])
        layout = files.layout if files is not None else None
        write_companions(film, staged, record, layout)
        signed = sign_render(signer, film, staged, record, bits is not None) if signer is not None else []
        write_exports(film, list(exports), staged, final, layout)  # after signing: the bundle copies the shots
        if signer is not None:
            signed += sign_exports(signer, staged, tuple(exports), record)
        for kind, path in final.items():
            if path.is_dir():  # an earlier render's shots or lines, replaced whole (--overwrite was checked)
                shutil.rmtree(path)
            sidecar_path(path).unlink(missing_ok=True)  # an earlier render's manifest no longer fits
            staged[kind].replace(path)
        place_sidecars(signed, staging, out.parent)
        finished = True
    finally:  # also on Ctrl-C and SIGTERM (the CLI turns it into KeyboardInterrupt)
        shutil.rmtree(staging, ignore_errors=True)
        if made_folder and not finished and not any(out.parent.iterdir()):
            out.parent.rmdir()
    return record


def _audio(film: Film) -> Iterator[np.ndarray] | None:
    """The film's sound (speech over room tone, at voice.MIX_RATE Hz) when it is voiced, as long as its frames."""
    if film.dialogue is None:
        return None
    from .voice import speech_track

    return speech_track(film.dialogue, film.subtitles, film.frame_count / film.options.fps)


def _write_lines(film: Film, folder: Path) -> None:
    """Each cue's speech as FILM.voice/NNN-SPEAKER.wav (the samples the MP4 mixes), labelled as synthetic."""
    from .records import line_record
    from .voice import line_name, write_wav

    folder.mkdir()
    for index, cue in enumerate(film.subtitles):
        write_wav(folder / line_name(index, cue.speaker), film.dialogue.line(cue), MIX_RATE,
                  line_record(film, index))
