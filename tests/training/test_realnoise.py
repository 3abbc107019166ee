"""Real-noise synthesis (training/realnoise.py), the noise-map estimator and its training step."""

import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.realnoise import camera_noise, degrade_batch, jpeg  # noqa: E402


def _flat(level: float, size: int = 96) -> "torch.Tensor":
    return torch.full((3, size, size), level)


def test_flat_grey_noise_grows_with_brightness_as_the_model_says():
    measured, predicted = [], []
    for level in (0.03, 0.1, 0.25, 0.45):
        gen = torch.Generator().manual_seed(7)  # the same camera for every level
        noisy, std = camera_noise(_flat(level), gen, shot=4e-3, read=2e-5, nr_prob=0.0)
        measured.append(float((noisy - level).std()))
        predicted.append(float(std.mean()))
    # shot noise: brighter grey, more noise (over the dark and middle tones, where the tone
    # curve does not yet flatten it)
    assert measured == sorted(measured) and measured[-1] > 1.5 * measured[0]
    # and as much as the model's own std map says, within what demosaic and the colour matrix
    # change (the map is the slope of the pipeline times the raw std)
    ratios = np.array(measured) / np.array(predicted)
    assert (ratios > 0.6).all() and (ratios < 1.6).all(), ratios


def test_read_noise_alone_does_not_grow_with_brightness():
    stds = []
    for level in (0.1, 0.3):
        gen = torch.Generator().manual_seed(3)
        _, std = camera_noise(_flat(level), gen, shot=1e-9, read=1e-4, nr_prob=0.0)
        stds.append(float(std.mean()))
    # constant raw noise through a compressive curve: less in the brighter tone
    assert stds[1] < stds[0]


def test_same_seed_same_batch_other_seed_other_batch():
    clean = torch.rand(4, 3, 40, 40)

    def batch(seed):
        return degrade_batch(clean, torch.Generator().manual_seed(seed), 32)

    a, b, c = batch(5), batch(5), batch(6)
    for x, y in zip(a[:3], b[:3]):
        assert torch.equal(x, y)
    assert a[3] == b[3]
    assert not torch.equal(a[0], c[0])


def test_degraded_crops_keep_their_clean_targets_aligned():
    clean = torch.rand(6, 3, 48, 48)
    noisy, target, std, kinds = degrade_batch(clean, torch.Generator().manual_seed(1), 40,
                                              mix={"clean": 1.0})
    assert noisy.shape == target.shape == (6, 3, 40, 40) and std.shape == (6, 1, 40, 40)
    # a clean crop is only rounded to 8 bits: cut at the same offset as its target
    assert float((noisy - target).abs().max()) <= 0.5 / 255 + 1e-6
    assert kinds == ["clean"] * 6


@pytest.mark.parametrize("quality", [30, 75, 95])
def test_torch_jpeg_is_within_about_a_grey_level_of_libjpeg(quality):
    from PIL import Image

    rng = np.random.default_rng(quality)
    y, x = np.mgrid[0:64, 0:80]
    img = np.stack([120 + 60 * np.sin(x / 7), 100 + 50 * np.cos(y / 5), 90 + x + y], -1)
    img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality)
    ref = np.asarray(Image.open(buf)).astype(np.float64)
    ours = jpeg(torch.from_numpy(img).permute(2, 0, 1).float() / 255, quality)
    ours = ours.permute(1, 2, 0).numpy() * 255
    assert np.abs(ours - ref).mean() < 1.5
    # and it removes as much as libjpeg does (not an identity)
    assert abs(np.abs(ours - img).mean() - np.abs(ref - img).mean()) < 0.5


def test_app_upsampling_matches_training():
    from app.core.restore.noise_map import upsample
    from training.archs.noise_estimator import upsample_map

    small = torch.rand(1, 1, 5, 7)
    ref = upsample_map(small)[0, 0].numpy()
    np.testing.assert_allclose(upsample(small[0, 0].numpy(), 4), ref, atol=1e-6)


def test_real_noise_model_starts_as_the_gaussian_denoiser():
    from training.archs import build

    plain = build("denoiser_unet", widths=[8, 16], blocks=1)
    torch.nn.init.normal_(plain.net.tail.weight, std=0.1)
    model = build("realnoise_denoiser_unet", widths=[8, 16], blocks=1, estimator_width=8)
    model.load_state_dict(model.adapt_init_state(plain.state_dict()))
    x, s = torch.rand(1, 3, 32, 40), torch.full((1, 1, 32, 40), 0.05)
    assert torch.equal(model(x, s), plain(x, s))
    assert model.estimator(x).shape == (1, 1, 8, 10)


def test_training_step_supervises_the_map_and_learns_a_brightness_dependent_level():
    """A few dozen steps of the estimator alone on noise that grows with brightness: its map
    must come to follow the brightness."""
    from training.archs.noise_estimator import NoiseEstimator

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small convolutions: threads only wait on each other here
    try:
        _learn_and_check(NoiseEstimator)
    finally:
        torch.set_num_threads(threads)


def _learn_and_check(NoiseEstimator):
    torch.manual_seed(0)
    est = NoiseEstimator(width=16)
    opt = torch.optim.Adam(est.parameters(), lr=3e-3)

    def sample(n):
        level = torch.rand(n, 1, 1, 1) * 0.8 + 0.1
        sigma = 0.01 + 0.08 * level  # std grows with brightness
        clean = level.expand(n, 3, 32, 32)
        return clean + torch.randn(n, 3, 32, 32) * sigma, sigma

    for _ in range(150):
        noisy, sigma = sample(16)
        loss = (torch.log(est(noisy) + 1 / 255) - torch.log(sigma + 1 / 255)).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        dark = torch.full((1, 3, 32, 32), 0.15)
        bright = torch.full((1, 3, 32, 32), 0.85)
        g = torch.Generator().manual_seed(1)
        d = est(dark + torch.randn(dark.shape, generator=g) * (0.01 + 0.08 * 0.15)).mean()
        b = est(bright + torch.randn(bright.shape, generator=g) * (0.01 + 0.08 * 0.85)).mean()
    assert float(b) > 2 * float(d)
    assert abs(float(b) - (0.01 + 0.08 * 0.85)) < 0.3 * (0.01 + 0.08 * 0.85)


def test_realnoise_step_gives_a_finite_loss_and_gradients_to_both_parts():
    from training.archs import build
    from training.realnoise_step import realnoise_step

    model = build("realnoise_denoiser_unet", widths=[8, 16], blocks=1, estimator_width=8)
    loss, metrics = realnoise_step(model, torch.rand(2, 3, 40, 40), np.random.default_rng(0),
                                   crop=32)
    loss.backward()
    assert torch.isfinite(loss) and {"psnr", "psnr_in", "map_l1"} <= set(metrics)
    assert model.estimator.out.weight.grad.abs().sum() > 0
    assert model.net.tail.weight.grad.abs().sum() > 0  # (the head starts behind a zero tail)
