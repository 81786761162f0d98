import pytest
from PIL import Image

from reelgan.cli.main import main
from reelgan.errors import ReelganError
from reelgan.metrics.plot import plot_run
from reelgan.training import train


def test_plot_draws_losses_and_metrics(tiny_config, tmp_path, monkeypatch):
    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path / "cache"))
    config = tiny_config(data={"resolution": 32},
                         train={"steps": 4, "metrics": "fid", "metrics_every": 2, "metrics_n": 12})
    run_dir = train(config, show_progress=False).run_dir
    path = plot_run(run_dir)
    assert path == run_dir / "curves.png"
    width, height = Image.open(path).size
    assert width == 800 and height == int(2 * 2.6 * 100)  # a loss panel and one metric panel


def test_plot_command_and_errors(tiny_config, tmp_path, capsys):
    run_dir = train(tiny_config(), show_progress=False).run_dir
    out = tmp_path / "c.png"
    assert main(["plot", str(run_dir), "--out", str(out)]) == 0 and out.is_file()
    assert main(["plot", str(run_dir), "--out", str(out)]) == 2  # never overwritten without asking
    assert main(["plot", str(tmp_path / "nope")]) == 2
    assert "not found" in capsys.readouterr().err
    (run_dir / "stats.jsonl").write_text("")
    with pytest.raises(ReelganError, match="no stats.jsonl rows"):
        plot_run(run_dir)
