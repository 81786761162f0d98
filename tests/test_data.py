import zipfile

import numpy as np
import pytest
import torch
from conftest import shared_data, write_images
from PIL import Image

from reelgan.config import DataConfig
from reelgan.data import ImageDataset, ResumableBatchSampler, build_dataset
from reelgan.errors import ReelganError


def test_folder_is_read_recursively_in_every_format(tmp_path):
    for suffix in (".png", ".jpg", ".webp", ".bmp"):
        write_images(tmp_path, 2, suffix=suffix, subfolder=f"deep/{suffix[1:]}")
    frames = [Image.new("RGB", (16, 16), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    (tmp_path / "notes.txt").write_text("not an image")
    dataset = ImageDataset(tmp_path, resolution=16, channels=3)
    assert len(dataset) == 9 and dataset.skipped == 0
    image, label = dataset[0]
    assert image.shape == (3, 16, 16) and image.dtype == torch.float32
    assert image.min() >= -1 and image.max() <= 1 and int(label) == 0


def test_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    image, _ = ImageDataset(tmp_path, resolution=16, channels=3)[0]
    red, _, blue = image.mean(dim=(1, 2))
    assert red > 0.9 and blue < -0.9


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_channels_are_converted_explicitly(tmp_path, channels):
    write_images(tmp_path, 2, mode="RGBA")
    image, _ = ImageDataset(tmp_path, resolution=16, channels=channels)[0]
    assert image.shape == (channels, 16, 16)


def test_transparent_pixels_become_white_without_alpha(tmp_path):
    Image.new("RGBA", (16, 16), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    gray, _ = ImageDataset(tmp_path, resolution=16, channels=1)[0]
    assert torch.allclose(gray, torch.ones_like(gray))
    rgba, _ = ImageDataset(tmp_path, resolution=16, channels=4)[0]
    assert torch.allclose(rgba[3], -torch.ones(16, 16))  # alpha 0 -> -1


def test_resize_then_centre_crop(tmp_path):
    # 64x32 image: left half black, right quarter... the centre crop keeps the middle square.
    pixels = np.zeros((32, 64), dtype=np.uint8)
    pixels[:, 16:48] = 255
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    image, _ = ImageDataset(tmp_path, resolution=16, channels=1)[0]
    assert image.shape == (1, 16, 16)
    assert image.mean() > 0.9  # only the white middle survives the crop


def test_corrupt_files_are_skipped_and_counted(tmp_path, caplog):
    write_images(tmp_path, 3)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "empty.jpg").write_bytes(b"")
    dataset = ImageDataset(tmp_path, resolution=16, channels=3)
    assert len(dataset) == 3 and dataset.skipped == 2
    assert "skipped 2 image file(s)" in caplog.text and "2 not a readable image" in caplog.text


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: p, "is empty"),
    (lambda p: (p / "a.txt").write_text("x") and p, "has no images"),
])
def test_unusable_paths_are_one_line_errors(tmp_path, make, message):
    with pytest.raises(ReelganError, match=message) as info:
        ImageDataset(make(tmp_path), resolution=16, channels=1)
    assert "\n" not in str(info.value)


def test_all_corrupt_is_an_error(tmp_path):
    (tmp_path / "a.png").write_bytes(b"nope")
    with pytest.raises(ReelganError, match="could be used: 1 not a readable image"):
        ImageDataset(tmp_path, resolution=16, channels=1)


def test_class_labels_from_first_level_subfolders(image_folder):
    dataset = ImageDataset(image_folder, resolution=16, channels=3, cond=True)
    assert dataset.class_names == ["cats", "dogs"]
    assert sorted(dataset.labels.tolist()) == [0] * 5 + [1] * 3


def test_cond_needs_subfolders(tmp_path):
    write_images(tmp_path, 2)
    with pytest.raises(ReelganError, match="class folder"):
        ImageDataset(tmp_path, resolution=16, channels=1, cond=True)


def test_zip_with_a_top_folder_gives_labels_below_it(tmp_path, image_folder):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in image_folder.rglob("*.png"):
            zf.write(path, f"top/{path.relative_to(image_folder).as_posix()}")
    dataset = ImageDataset(archive, resolution=16, channels=3, cond=True)
    assert len(dataset) == 8 and dataset.class_names == ["cats", "dogs"]


@pytest.mark.parametrize("shape", [(6, 20, 20), (6, 20, 20, 3), (6, 3, 20, 20)])
def test_numpy_arrays_in_any_layout(tmp_path, shape):
    array = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    np.save(tmp_path / "x.npy", array)
    dataset = ImageDataset(tmp_path / "x.npy", resolution=16, channels=3)
    assert len(dataset) == 6 and dataset[0][0].shape == (3, 16, 16)


def test_npz_float_images_and_labels(tmp_path):
    images = np.linspace(-1, 1, 4 * 16 * 16).reshape(4, 16, 16).astype(np.float32)
    np.savez(tmp_path / "x.npz", images=images, labels=np.array([0, 1, 1, 0]))
    dataset = ImageDataset(tmp_path / "x.npz", resolution=16, channels=1, cond=True)
    assert dataset.num_classes == 2
    assert torch.allclose(dataset[0][0][0], torch.from_numpy(images[0]), atol=1 / 127)


def test_xflip_doubles_with_mirrors(image_folder):
    dataset = ImageDataset(image_folder, resolution=16, channels=3, xflip=True)
    assert len(dataset) == 16
    assert torch.equal(dataset[8][0], dataset[0][0].flip(-1))


def test_logograms_are_deterministic_and_in_range():
    config = DataConfig(source="logograms", resolution=16, size=10, seed=3)
    a, b = build_dataset(config), build_dataset(config)
    assert torch.equal(a[4][0], b[4][0])
    assert not torch.equal(a[4][0], a[5][0])
    other_seed = build_dataset(DataConfig(source="logograms", resolution=16, size=10, seed=4))
    assert not torch.equal(a[4][0], other_seed[4][0])
    image = a[0][0]
    assert image.shape == (1, 16, 16) and image.min() < 0 < image.max()


def test_sampler_order_is_a_function_of_seed_and_position():
    sampler = ResumableBatchSampler(10, 4, seed=7)
    stream = iter(sampler)
    first = [next(stream) for _ in range(6)]  # crosses epoch boundaries
    resumed = iter(ResumableBatchSampler(10, 4, seed=7, start_batch=3))
    assert [next(resumed) for _ in range(3)] == first[3:]
    epoch0 = sum(first[:2], []) + first[2][:2]
    assert sorted(epoch0) == list(range(10))  # each epoch is a permutation
    other_seed = iter(ResumableBatchSampler(10, 4, seed=8))
    assert first != [next(other_seed) for _ in range(6)]


def test_omniglot_zip_reads_with_alphabet_labels():
    path = shared_data("omniglot_background.zip")
    dataset = ImageDataset(path, resolution=32, channels=1, cond=True, max_images=60)
    assert len(dataset) == 60 and dataset.skipped == 0
    image = dataset[0][0]
    assert image.shape == (1, 32, 32) and image.min() < 0 and image.max() > 0.9  # ink on white
    assert dataset.class_names and "/" not in dataset.class_names[0]


def test_lazy_mode_names_a_file_that_fails_late(tmp_path, monkeypatch):
    import reelgan.data.image_sets as images

    write_images(tmp_path, 2)
    monkeypatch.setattr(images, "MAX_CACHE_BYTES", 0)  # force decoding on access
    dataset = ImageDataset(tmp_path, resolution=16, channels=3)
    assert not dataset.cached and dataset[1][0].shape == (3, 16, 16)
    (tmp_path / "img1.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(ReelganError, match="img1.png .* cannot be decoded"):
        dataset[1]


def test_npz_labels_are_used_only_with_cond(tmp_path):
    images = np.zeros((4, 16, 16), dtype=np.uint8)
    np.savez(tmp_path / "x.npz", images=images, labels=np.array([0, 1, 1, 0]))
    assert ImageDataset(tmp_path / "x.npz", resolution=16, channels=1).num_classes == 0
    np.savez(tmp_path / "bad.npz", images=images, labels=np.array([0, 1]))
    with pytest.raises(ReelganError, match="4 images but 2 labels"):
        ImageDataset(tmp_path / "bad.npz", resolution=16, channels=1, cond=True)


def test_a_single_class_folder_or_zip_keeps_its_class(tmp_path):
    write_images(tmp_path / "data", 2, subfolder="cats")
    assert ImageDataset(tmp_path / "data", resolution=16, channels=1, cond=True).class_names == ["cats"]
    archive = tmp_path / "one.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (tmp_path / "data").rglob("*.png"):
            zf.write(path, path.relative_to(tmp_path / "data").as_posix())
    assert ImageDataset(archive, resolution=16, channels=1, cond=True).class_names == ["cats"]


@pytest.mark.parametrize("kind", ["zip", "npz"])
def test_datasets_pickle_for_worker_processes(tmp_path, image_folder, kind):
    import pickle

    if kind == "zip":
        path = tmp_path / "set.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for image in image_folder.rglob("*.png"):
                zf.write(image, image.relative_to(image_folder).as_posix())
    else:
        path = tmp_path / "set.npz"
        np.savez(path, images=np.zeros((3, 16, 16), dtype=np.uint8))
    dataset = ImageDataset(path, resolution=16, channels=1)
    copy = pickle.loads(pickle.dumps(dataset))
    assert torch.equal(copy[1][0], dataset[1][0])
    assert copy.sources[0].read() is not None  # readers work in the new process's copy


def test_an_image_over_the_pixel_limit_is_skipped_and_counted(tmp_path, monkeypatch):
    from PIL import Image

    Image.new("L", (8, 8), 0).save(tmp_path / "small.png")
    Image.new("L", (40, 40), 0).save(tmp_path / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 40x40 is over twice the limit: a "bomb"
    dataset = ImageDataset(tmp_path, resolution=16, channels=1)
    assert len(dataset) == 1 and dataset.skipped == 1


@pytest.mark.parametrize("fit", ["crop", "pad", "resize"])
def test_fit_modes_make_squares_and_pad_keeps_small_images_sharp(tmp_path, fit):
    stroke = np.full((28, 28), 255, np.uint8)
    stroke[:, 13:15] = 0  # a 2 px vertical stroke on white paper
    Image.fromarray(stroke).save(tmp_path / "a.png")
    Image.fromarray(np.full((10, 30), 40, np.uint8)).save(tmp_path / "wide.png")  # dark, 3:1
    dataset = ImageDataset(tmp_path, resolution=32, channels=1, fit=fit)
    a, wide = (dataset.raw(i)[0] for i in range(2))  # (32, 32) each, sorted by name: a.png, wide.png
    assert a.shape == wide.shape == (32, 32)
    if fit == "pad":
        assert np.array_equal(a[2:30, 2:30], stroke)  # every pixel kept, centred, paper around it
        assert (a[:2] == 255).all() and (wide == 40).all()  # padded with each image's own border colour
    else:
        assert not np.isin(a, (0, 255)).all()  # resampling 28 -> 32 px blurs the stroke's edges
    assert "2 of 2 smaller than 32 px and 1 not square" in dataset.describe() and f"--fit {fit}" in dataset.describe()
