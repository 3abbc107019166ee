"""Object removal: the exemplar fill of large holes (app/core/restore/object_fill.py, patchmatch.py)
and the object masks of benchmarks/objects.py."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.restore import object_fill
from app.core.restore.hole_fill import fill_holes
from app.core.restore.morphology import blur, dilate
from app.core.restore.object_fill import fill_large_holes, large_holes
from app.core.restore.patchmatch import PatchImage, nearest_field
from app.core.restore.seam import broad_blur, match_edges
from benchmarks.objects import object_mask, object_masks


def periodic(h: int, w: int, period: int = 8) -> np.ndarray:
    """A colour texture that repeats every ``period`` pixels in both directions."""
    y, x = np.mgrid[:h, :w].astype(np.float32)
    a = np.sin(2 * np.pi * x / period) * np.cos(2 * np.pi * y / period)
    img = np.stack([128 + 90 * a, 128 - 60 * np.sin(2 * np.pi * (x + y) / period),
                    100 + 50 * np.cos(2 * np.pi * y / period)], axis=-1)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def box_hole(h: int, w: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    hole = np.zeros((h, w), bool)
    hole[y0:y1, x0:x1] = True
    return hole


def hole_psnr(a: np.ndarray, b: np.ndarray, hole: np.ndarray) -> float:
    mse = np.mean((a[hole].astype(np.float64) - b[hole]) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


def test_object_masks_are_deterministic_and_object_sized():
    shapes = [(512, 768), (768, 512), (300, 400)]
    first, again = object_masks(shapes, seed=7), object_masks(shapes, seed=7)
    for a, b, shape in zip(first, again, shapes):
        assert a.shape == shape and a.dtype == bool
        np.testing.assert_array_equal(a, b)
        assert 0.045 <= a.mean() <= 0.125  # 5-12 % (rasterised)
    other = object_masks(shapes, seed=8)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))
    # one generator call per image: the i-th mask does not depend on the others
    np.testing.assert_array_equal(
        first[1], object_mask(768, 512, np.random.default_rng([7, 1])))


def test_patchmatch_finds_a_copied_region():
    rng = np.random.default_rng(0)
    # 4x4 blocks of random colour, plus noise: near misses score better than far ones
    img = np.repeat(np.repeat(rng.uniform(0, 255, (20, 20, 3)), 4, 0), 4, 1)
    img = (img + rng.normal(0, 3, img.shape)).astype(np.float32)
    img[50:70, 50:70] = img[5:25, 10:30]
    targets = box_hole(80, 80, 53, 67, 53, 67)
    valid = ~box_hole(80, 80, 40, 80, 40, 80)
    field, dist = nearest_field(PatchImage(img, 3), targets, valid, None,
                                np.random.default_rng(1), iterations=8)
    ty, tx = np.nonzero(targets)
    assert np.mean((field[:, 0] == ty - 45) & (field[:, 1] == tx - 40)) > 0.99
    assert np.all(valid[field[:, 0], field[:, 1]])  # every match is a known patch


def test_known_pixels_never_change_and_thin_strokes_are_left():
    rgb = periodic(240, 320)
    big = box_hole(240, 320, 60, 180, 100, 220)
    stroke = box_hole(240, 320, 20, 26, 10, 300)  # 6 px wide: the network's
    hole = big | stroke
    holed = np.where(hole[..., None], np.uint8(0), rgb)
    out, left, boxes = fill_large_holes(holed, hole, seed=3)
    grown = dilate(big, round(object_fill.MASK_GROW * 320))
    np.testing.assert_array_equal(out[~(hole | grown)], holed[~(hole | grown)])
    np.testing.assert_array_equal(left, stroke)
    assert len(boxes) == 1
    assert out[big].std() > 10  # filled, not black
    assert holed[big].max() == 0


def test_only_a_crop_around_the_hole_is_worked_on(monkeypatch):
    h, w = 1200, 1600
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:] = periodic(h, w)
    hole = box_hole(h, w, 820, 1110, 1220, 1520)  # 4.5 % of the photo
    calls = []
    real = object_fill.fill_crop

    def spy(crop, crop_hole, rng, *args, **kwargs):
        calls.append((crop.shape[:2], int(crop_hole.sum())))
        return real(crop, crop_hole, rng, *args, **kwargs)

    monkeypatch.setattr(object_fill, "fill_crop", spy)
    out, left, boxes = fill_large_holes(rgb, hole)
    assert len(calls) == 1 and not left.any()
    (ch, cw), holes_in_crop = calls[0]
    grown = dilate(hole, round(object_fill.MASK_GROW * w))
    assert holes_in_crop == grown.sum()  # the mask grown by a few pixels
    assert ch * cw < 0.3 * h * w  # a crop near the hole, not the photo
    box = boxes[0]
    assert box.y0 <= 820 and box.y1 >= 1110 and box.x0 <= 1220 and box.x1 >= 1520
    changed = np.any(out != rgb, axis=2)
    assert not changed[~grown].any()


def test_no_large_hole_means_no_work(monkeypatch):
    monkeypatch.setattr(object_fill, "fill_crop", lambda *a, **k: pytest.fail("called"))
    hole = box_hole(200, 200, 50, 60, 0, 200)  # a long 10 px stroke
    rgb = periodic(200, 200)
    out, left, boxes = fill_large_holes(rgb, hole)
    assert out is rgb and boxes == [] and np.array_equal(left, hole)
    region, boxes = large_holes(np.zeros((50, 50), bool))
    assert boxes == [] and not region.any()


def test_periodic_texture_is_continued_far_better_than_the_harmonic_fill():
    rgb = periodic(256, 256)
    hole = box_hole(256, 256, 70, 190, 60, 184)
    holed = np.where(hole[..., None], np.uint8(0), rgb)
    exemplar = fill_large_holes(holed, hole, seed=0)[0]
    harmonic = fill_holes(holed, hole, 8).array()
    ours, smooth = hole_psnr(rgb, exemplar, hole), hole_psnr(rgb, harmonic, hole)
    assert ours > smooth + 8.0, (ours, smooth)
    # and the texture is there: the fill varies as much as the image around it
    assert exemplar[hole].astype(np.float32).std() > 0.7 * rgb.astype(np.float32).std()


def test_same_seed_same_fill_other_seed_other_fill():
    rgb = periodic(200, 200, period=11)
    rgb[::7] //= 2  # break the symmetry a little
    hole = box_hole(200, 200, 40, 155, 45, 160)
    a = fill_large_holes(rgb, hole, seed=1)[0]
    b = fill_large_holes(rgb, hole, seed=1)[0]
    c = fill_large_holes(rgb, hole, seed=2)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_inpaint_fills_objects_by_exemplar_and_runs_the_network_only_for_strokes(
        tiny_engine):
    import dataclasses

    from app.core.restore import network as restore

    class Counting:
        tile_workers = 1

        def __init__(self, sessions):
            self.sessions, self.tiles = sessions, 0

        def run_tile(self, model, graph, **inputs):
            self.tiles += 1
            return self.sessions.run_tile(model, graph, **inputs)

    model = tiny_engine.model("inpaint")
    model = dataclasses.replace(model, manifest=dataclasses.replace(
        model.manifest, tile_size=64, tile_overlap=16))
    rgb = periodic(256, 384)
    obj = box_hole(256, 384, 60, 190, 200, 340)
    mask = obj.astype(np.uint8)
    counting = Counting(tiny_engine.sessions)
    out = restore.inpaint(counting, model, rgb, mask, passes=1)
    assert counting.tiles == 0  # the object alone: no network run
    grown = dilate(obj, round(object_fill.MASK_GROW * 384))
    np.testing.assert_array_equal(out[~grown], rgb[~grown])
    assert hole_psnr(rgb, out, obj) > 25  # the texture continues into the hole

    mask[10:16, 10:50] = 1  # plus a thin stroke in one corner: only its tiles are run
    out = restore.inpaint(counting, model, rgb, mask, passes=1)
    assert 1 <= counting.tiles <= 2
    keep = (mask == 0) & ~grown
    np.testing.assert_array_equal(out[keep], rgb[keep])


def test_objects_a_few_dozen_pixels_thick_take_the_exemplar_path():
    # a door 60 px wide, 11 % of the photo, is an object; a 10 px stroke is left to the
    # network, and so is a thick blob that covers under MIN_AREA of the photo
    door = box_hole(240, 320, 60, 200, 140, 200)
    stroke = box_hole(240, 320, 20, 30, 10, 300)
    region, boxes = large_holes(door | stroke)
    assert len(boxes) == 1
    np.testing.assert_array_equal(region, door)
    blob = box_hole(400, 400, 100, 160, 100, 160)  # 2.3 %
    region, boxes = large_holes(blob)
    assert boxes == [] and not region.any()
    region, boxes = large_holes(blob, min_area=0.02)
    assert len(boxes) == 1 and np.array_equal(region, blob)


def test_the_mask_grows_over_a_colour_halo_the_user_missed():
    rgb = periodic(240, 320)
    hole = box_hole(240, 320, 70, 170, 110, 210)
    halo = dilate(hole, 2) & ~hole  # the object's edge, left outside the painted mask
    rgb[halo] = (255, 0, 255)
    out, left, _ = fill_large_holes(rgb, hole, seed=0)
    magenta = (out[..., 0] > 200) & (out[..., 1] < 40) & (out[..., 2] > 200)
    assert not magenta.any()  # replaced, and never copied into the fill
    assert not left.any()
    far = ~dilate(hole, round(object_fill.MASK_GROW * 320))
    np.testing.assert_array_equal(out[far], rgb[far])


def test_edge_matching_removes_a_brightness_step_and_keeps_broad_structure():
    h, w = 160, 160
    hole = box_hole(h, w, 40, 120, 40, 120)
    crop = np.full((h, w, 3), 100, np.uint8)
    x = np.arange(w, dtype=np.float32)
    stripes = 30 * np.sin(2 * np.pi * x / 40)  # 40 px stripes, wider than any old blur
    filled = np.broadcast_to((140 + stripes)[None, :, None], (h, w, 3)).astype(np.float32)
    out = match_edges(crop, hole, filled).astype(np.float32)
    np.testing.assert_array_equal(out[~hole], crop[~hole])
    inner = out[45:115, 45:115, 0]
    assert abs(inner.mean() - 100) < 8  # the +40 step is gone, not only at the edge
    col = inner.mean(axis=0)
    want = stripes[45:115]
    assert np.corrcoef(col, want)[0, 1] > 0.9 and col.std() > 0.6 * want.std()


def test_broad_blur_matches_the_full_size_blur():
    rng = np.random.default_rng(0)
    a = blur(rng.normal(0, 40, (150, 211, 3)).astype(np.float32), 8)
    a += np.linspace(0, 80, 211, dtype=np.float32)[None, :, None]
    full, pooled = blur(a, 24), broad_blur(a, 24)
    assert pooled.shape == a.shape
    assert np.abs(full - pooled).mean() < 0.5 and np.abs(full - pooled).max() < 3
