import json

import torch

from reelgan.cli.main import main
from reelgan.gan.generator import Generator
from reelgan.gan.nets import build_generator
from reelgan.metrics.audit import audit_generator
from reelgan.metrics.evaluate import real_images


class CopyNet(torch.nn.Module):
    """A 'generator' that returns training images: the memorising failure the audit must catch."""

    def __init__(self, images: torch.Tensor):
        super().__init__()
        self.register_buffer("images", images)

    def forward(self, z, labels=None):
        index = (z[:, 0].abs() * 1e4).long() % len(self.images)
        return self.images[index]


SPEC = {"latent_dim": 16, "resolution": 32, "channels": 1, "class_names": []}


def test_a_copying_generator_is_flagged_and_a_random_one_is_not():
    training = real_images("logograms", 32, 1, 200, seed=0)
    copier = Generator(CopyNet(training[torch.arange(200) % 10 != 0]), SPEC)  # copies of the training part
    report, (samples, matches) = audit_generator(copier, training, n=50)
    assert torch.equal(samples, matches)  # each copy sits beside the image it copied
    assert len(report["flagged"]) == 50 and report["sample_pixel"]["max"] < 1e-6
    random_net = build_generator("dcgan", resolution=32, channels=1, latent_dim=16, width=8, max_width=16)
    report, _ = audit_generator(Generator(random_net, SPEC), training, n=50)
    assert report["flagged"] == []
    assert report["sample_pixel"]["min"] > report["pixel_threshold"]


def test_audit_command_writes_report_and_sheet(tmp_path, tiny_config, capsys):
    from reelgan.training import train

    run_dir = train(tiny_config(data={"resolution": 32}, train={"steps": 1}), show_progress=False).run_dir
    out = tmp_path / "audit"
    assert main(["audit", str(run_dir), "--data", "logograms", "--n", "30", "--max-images", "200",
                 "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["samples"] == 30 and "held_out_feature" in report and (out / "closest.png").is_file()
    assert "samples flagged" in capsys.readouterr().out
    assert main(["audit", str(run_dir), "--data", "logograms", "--out", str(out)]) == 2  # no overwrite
    assert main(["audit", str(run_dir), "--data", "logograms", "--quantile", "2", "--max-images", "200",
                 "--out", str(tmp_path / "b")]) == 2
