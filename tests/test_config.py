import pytest

from reelgan.config import PRESETS, RunConfig, build_config, load_toml
from reelgan.errors import ReelganError


def test_defaults_round_trip_through_plain_data():
    config = build_config()
    assert RunConfig.from_dict(config.to_dict()) == config


def test_paper_preset_has_the_papers_settings():
    config = build_config("paper")
    assert (config.loss.kind, config.loss.gp_weight) == ("wgan-gp", 10.0)
    assert (config.train.n_critic, config.train.lr_g, config.train.lr_d) == (5, 1e-4, 1e-4)
    assert (config.train.beta1, config.train.beta2) == (0.0, 0.9)


def test_the_default_is_r3gans_recipe_and_wgan_gp_keeps_its_own():
    default = build_config()
    assert (default.loss.kind, default.loss.r1_gamma, default.train.n_critic) == ("r3gan", 0.1, 1)
    assert (default.train.lr_g, default.train.lr_d, default.train.beta1, default.train.beta2) == (2e-4, 2e-4, 0.0,
                                                                                                   0.99)
    wgan = build_config(overrides={"loss": {"kind": "wgan-gp"}})
    assert (wgan.train.n_critic, wgan.train.lr_g, wgan.train.lr_d) == (2, 1e-4, 2e-4)
    assert (wgan.train.beta1, wgan.train.beta2, wgan.loss.drift) == (0.0, 0.9, 0.001)
    assert build_config(overrides={"loss": {"kind": "ns-r1"}}).loss.r1_gamma == 1.0
    # A flag beats the loss's recipe.
    assert build_config(overrides={"loss": {"kind": "wgan-gp"}, "train": {"n_critic": 1}}).train.n_critic == 1


def test_the_default_anneals_gamma_and_averages_by_half_life_and_the_old_recipes_do_not():
    default = build_config()
    assert (default.loss.r1_gamma_anneal, default.train.ema_kimg) == (10.0, 10.0)
    for kind in ("wgan-gp", "hinge", "ns-r1"):  # the recipes they were measured with: EMA 0.999 per step
        config = build_config(overrides={"loss": {"kind": kind}})
        assert (config.train.ema_kimg, config.train.ema_decay) == (0.0, 0.999)
    assert build_config(overrides={"loss": {"kind": "ns-r1"}}).loss.r1_gamma_anneal == 1.0
    # an EMA decay per step, from a flag or a TOML file, is that decay, not a half-life
    assert build_config(overrides={"train": {"ema_decay": 0.99}}).train.ema_kimg == 0.0
    assert build_config(toml={"train": {"ema_decay": 0.99}}).train.ema_kimg == 0.0
    assert build_config(overrides={"train": {"ema_decay": 0.99, "ema_kimg": 5.0}}).train.ema_kimg == 5.0
    # the later layer's EMA wins whole: a flag over a TOML file, a flag over a preset's "no EMA"
    flag_over_toml = build_config(toml={"train": {"ema_kimg": 5.0}}, overrides={"train": {"ema_decay": 0.99}})
    assert (flag_over_toml.train.ema_kimg, flag_over_toml.train.ema_decay) == (0.0, 0.99)
    paper_with_ema = build_config("paper", overrides={"train": {"ema_kimg": 10.0}})
    assert (paper_with_ema.train.ema_kimg, paper_with_ema.train.ema_decay) == (10.0, 0.999)
    assert build_config("paper").train.ema_decay == 0.0


def test_an_anneal_under_1_is_refused_in_one_line():
    with pytest.raises(ReelganError, match="r1_gamma_anneal must be 1 or more"):
        build_config(overrides={"loss": {"r1_gamma_anneal": 0.5}})
    with pytest.raises(ReelganError, match="r1_gamma_anneal must be 1 or more"):  # 0 too, not "greater than 0"
        build_config(overrides={"loss": {"r1_gamma_anneal": 0}})


def test_clips_default_to_wgan_gp_with_their_widths():
    clip = build_config(overrides={"data": {"kind": "video", "source": "moving-glyphs"}})
    assert clip.loss.kind == "wgan-gp" and clip.train.n_critic == 2
    assert (clip.net.g_width, clip.net.d_width, clip.net.max_width) == (16, 32, 128)


def test_overrides_beat_toml_which_beats_preset(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('[train]\nn_critic = 3\nsteps = 10\n[data]\nresolution = 64\n')
    config = build_config("paper", load_toml(toml), {"train": {"steps": 20}})
    assert config.train.n_critic == 3 and config.train.steps == 20 and config.data.resolution == 64
    assert config.train.lr_g == PRESETS["paper"]["train"]["lr_g"]


@pytest.mark.parametrize("section, values, message", [
    ("data", {"resolution": 48}, "power of two"),
    ("data", {"resolution": 512}, "power of two"),
    ("data", {"channels": 2}, "channels must be one of 1, 3, 4"),
    ("net", {"arch": "stylegan"}, "net must be one of dcgan, resnet"),
    ("loss", {"kind": "wasserstein"}, "loss must be one of wgan-gp, hinge, ns-r1"),
    ("loss", {"augment": "rotate"}, "augment must be one of"),
    ("train", {"steps": 0}, "steps must be a whole number >= 1"),
    ("train", {"batch": -1}, "batch must be a whole number >= 1"),
    ("train", {"lr_g": 0}, "greater than 0"),
    ("train", {"beta2": 1.5}, "in [0, 1)"),
    ("train", {"device": "tpu"}, "device must be one of"),
])
def test_bad_values_name_the_field_and_the_allowed_values(section, values, message):
    with pytest.raises(ReelganError, match=message.replace("(", r"\(").replace("[", r"\[").replace(")", r"\)")):
        build_config(overrides={section: values})


def test_unknown_keys_and_sections_are_errors(tmp_path):
    with pytest.raises(ReelganError, match="unknown key"):
        build_config(overrides={"train": {"stepz": 3}})
    toml = tmp_path / "bad.toml"
    toml.write_text("[model]\nx = 1\n")
    with pytest.raises(ReelganError, match="unknown config section"):
        load_toml(toml)


def test_bad_toml_is_a_clear_error(tmp_path):
    toml = tmp_path / "broken.toml"
    toml.write_text("[train\nsteps = ")
    with pytest.raises(ReelganError, match="not valid TOML"):
        load_toml(toml)
    with pytest.raises(ReelganError, match="not found"):
        load_toml(tmp_path / "missing.toml")
