"""Training on clips: --kind video on the same loop, checkpoints, exact resume, export and MP4 output."""

import pytest
import torch

from reelgan.cli.main import main
from reelgan.errors import ReelganError
from reelgan.gan.checkpoint import load_checkpoint
from reelgan.gan.generator import load_generator
from reelgan.media import read_video_frames
from reelgan.provenance import read_record
from reelgan.training import train

VIDEO = {"data": {"source": "moving-glyphs", "kind": "video", "frames": 8, "resolution": 16, "size": 16},
         "net": {"content_dim": 8, "motion_dim": 4}}


def test_a_clip_run_trains_exports_and_writes_videos(tiny_config, tmp_path):
    result = train(tiny_config(**VIDEO), show_progress=False)
    G = load_generator(result.run_dir)
    assert G.is_video and G.spec["frames"] == 8
    clips = G.sample(3, seed=5)
    assert clips.shape == (3, 1, 8, 16, 16) and clips.abs().max() <= 1
    assert torch.equal(clips[1:], G.sample(2, seed=6))  # clip i comes from seed + i
    strip = sorted((result.run_dir / "samples").glob("*.png"))[-1]
    assert read_record(strip)["step"] == 4
    out = tmp_path / "clips"
    assert main(["generate", str(result.run_dir), "--n", "2", "--out", str(out), "--size", "32"]) == 0
    frames = read_video_frames(out / "seed000000.mp4")
    assert frames.shape[0] == 8 and frames.shape[1:3] == (32, 32)
    assert read_record(out / "seed000000.mp4")["seed"] == 0
    grid = tmp_path / "grid.gif"
    assert main(["generate", str(result.run_dir), "--n", "4", "--grid", "--gif", "--out", str(grid)]) == 0
    assert grid.stat().st_size > 0
    for hold in ("motion", "content"):  # morph one part of the latent with the other held
        morph = tmp_path / f"morph-{hold}.mp4"
        assert main(["interpolate", str(result.run_dir), "--seeds", "0,1", "--frames", "6", "--hold", hold,
                     "--size", "32", "--out", str(morph)]) == 0
        assert read_video_frames(morph).shape[0] == 7 and read_record(morph)["hold"] == hold
    assert main(["interpolate", str(result.run_dir), "--hold", "colour", "--out", str(tmp_path / "x.mp4")]) == 2


def test_clip_training_resumes_exactly(tiny_config):
    whole = train(tiny_config(**VIDEO), show_progress=False)
    config = tiny_config(**VIDEO, train={"steps": 2})
    half = train(config, show_progress=False)
    resumed = train(tiny_config(**VIDEO, train={"steps": 4}), resume=half.run_dir, show_progress=False)
    a = load_checkpoint(whole.run_dir / "checkpoints" / "latest.pt")
    b = load_checkpoint(resumed.run_dir / "checkpoints" / "latest.pt")
    for name in ("G", "D", "G_ema"):
        for key in a[name]:
            assert torch.equal(a[name][key], b[name][key]), f"{name}.{key} differs after resume"


def test_clip_settings_are_checked(tiny_config):
    with pytest.raises(ReelganError, match="clip set"):
        tiny_config(data={"source": "moving-glyphs"})
    with pytest.raises(ReelganError, match="image set"):
        tiny_config(data={"source": "logograms", "kind": "video"})
    with pytest.raises(ReelganError, match="8-16 frames"):
        tiny_config(**{**VIDEO, "data": {**VIDEO["data"], "frames": 4}})
    with pytest.raises(ReelganError, match="wgan-gp"):
        tiny_config(**VIDEO, loss={"kind": "hinge"})
    with pytest.raises(ReelganError, match="metrics"):
        tiny_config(**VIDEO, train={"metrics": "fid"})


def test_fvd_of_a_clip_generator_from_the_metrics_command(tiny_config, tmp_path, capsys, monkeypatch):
    from reelgan.metrics.clip_metrics import real_clips, save_clip_extractor, train_clip_net

    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path / "cache"))
    run = train(tiny_config(**VIDEO), show_progress=False).run_dir
    clips = real_clips("moving-glyphs", 8, 1, 16, 1, 16, seed=2)
    extractor = tmp_path / "clips.safetensors"
    save_clip_extractor(train_clip_net(clips, steps=2, batch=8), {"dataset": "moving-glyphs", "stride": 1}, extractor)
    argv = ["metrics", str(run), "--data", "moving-glyphs", "--n", "12", "--extractor", str(extractor)]
    assert main(argv + ["--metrics", "fvd"]) == 0
    assert "fvd12_clipnet-moving-glyphs-16x8s1" in capsys.readouterr().out
    assert main(argv + ["--metrics", "fid"]) == 2  # image metrics on a clip generator: refused
    assert main(["metrics", str(run), "--data", "moving-glyphs", "--metrics", "fvd"]) == 2  # no extractor


def test_image_only_data_flags_are_refused_for_clips(tiny_config):
    with pytest.raises(ReelganError, match="for images"):
        tiny_config(**{**VIDEO, "data": {**VIDEO["data"], "xflip": True}})
