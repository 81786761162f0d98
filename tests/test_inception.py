"""The `inception` extractor: architecture, protocol, weights checked by sha256, fetch-weights from a local file.

The real weights (95.6 MB) are never downloaded in tests: a randomly initialised network saved in the same
format stands in for them, with `expected_sha256` pointed at that file's hash.
"""

import pytest
import torch

from reelgan.cli.main import main
from reelgan.errors import ReelganError
from reelgan.gan.generator import load_generator
from reelgan.metrics import inception
from reelgan.metrics.evaluate import choose_extractor, evaluate_generator
from reelgan.metrics.inception import FIDInceptionV3, file_sha256, load_inception, to_inception_input
from reelgan.training import train


@pytest.fixture(scope="module")
def stand_in_weights(tmp_path_factory):
    """A state dict in the FID port's layout (random weights) and its sha256."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "pt_inception-stand-in.pth"
    torch.save(FIDInceptionV3().state_dict(), path)
    return path, file_sha256(path)


@pytest.fixture
def accept_stand_in(stand_in_weights, monkeypatch):
    monkeypatch.setattr(inception, "expected_sha256", lambda: stand_in_weights[1])
    return stand_in_weights[0]


def test_layers_match_the_fid_port():
    net = FIDInceptionV3()
    state = net.state_dict()
    # Names and sizes of the port's file: 95,541,568 bytes of float32 weights (file 95,628,359 with headers).
    assert "Mixed_7c.branch3x3dbl_3b.conv.weight" in state and state["fc.weight"].shape == (1008, 2048)
    floats = sum(v.numel() for k, v in state.items() if not k.endswith("num_batches_tracked"))
    assert floats * 4 == 95_541_568
    assert not net.Mixed_7b.max_pool and net.Mixed_7c.max_pool  # only the last block max-pools
    with torch.no_grad():
        assert net.eval()(torch.zeros(1, 3, 299, 299)).shape == (1, 2048)


def test_input_follows_the_protocol():
    gray = torch.linspace(-1, 1, 16 * 16).reshape(1, 1, 16, 16)
    x = to_inception_input(gray)
    assert x.shape == (1, 3, 299, 299) and torch.equal(x[:, 0], x[:, 2])  # grayscale repeated to RGB
    assert x.min() >= -1 and x.max() <= 1
    levels = ((to_inception_input(torch.full((1, 3, 4, 4), 0.3001)) + 1) * 127.5)
    assert torch.allclose(levels, levels.round(), atol=1e-4)  # quantised to 8 bits first
    transparent = torch.cat([-torch.ones(1, 3, 8, 8), -torch.ones(1, 1, 8, 8)], 1)  # black, alpha 0
    assert torch.allclose(to_inception_input(transparent), torch.ones(1, 3, 299, 299))  # white background


def test_weights_are_checked_and_never_downloaded(stand_in_weights, tmp_path, monkeypatch):
    path, _ = stand_in_weights
    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("REELGAN_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(ReelganError, match="reelgan metrics fetch-weights") as missing:
        load_inception()
    assert str(tmp_path / "cache" / "weights") in str(missing.value)  # names the file it looked for
    with pytest.raises(ReelganError, match="sha256"):
        load_inception(path)  # a file that is not the published weights


def test_loaded_extractor_gives_2048_features_and_protocol_names(accept_stand_in, tiny_config, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("REELGAN_INCEPTION_WEIGHTS", str(accept_stand_in))
    extractor = choose_extractor("inception", "anything")
    images = torch.rand(3, 1, 16, 16) * 2 - 1
    features = extractor.features(images)
    assert features.shape == (3, 2048) and (features >= 0).all()  # pooled ReLU outputs
    assert (extractor.features(images) == features).all()
    run = train(tiny_config(train={"steps": 1}), show_progress=False).run_dir
    results = evaluate_generator(load_generator(run), "logograms", ["kid"], n=6,
                                 extractor=choose_extractor(str(accept_stand_in), "logograms"))
    assert set(results) == {"kid6_inception-16", "kid_std6_inception-16"}


def test_fetch_weights_from_a_local_file(accept_stand_in, tmp_path, capsys):
    out = tmp_path / "w" / "inception.pth"
    url = accept_stand_in.as_uri()  # file://..., never the network
    assert main(["metrics", "fetch-weights", "--url", url, "--out", str(out)]) == 0
    assert out.read_bytes() == accept_stand_in.read_bytes()
    assert main(["metrics", "fetch-weights", "--url", url, "--out", str(out)]) == 2  # exists: refused
    assert "--overwrite" in capsys.readouterr().err
    assert main(["metrics", "fetch-weights", "--url", url, "--out", str(out), "--overwrite"]) == 0


def test_fetch_weights_with_the_wrong_hash_leaves_nothing(stand_in_weights, tmp_path, capsys):
    out = tmp_path / "inception.pth"
    assert main(["metrics", "fetch-weights", "--url", stand_in_weights[0].as_uri(), "--out", str(out)]) == 2
    assert "sha256" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no file, no partial download
    assert main(["metrics", "fetch-weights", "--url", (tmp_path / "none.pth").as_uri(), "--out", str(out)]) == 2
    assert "cannot download" in capsys.readouterr().err and list(tmp_path.iterdir()) == []
