"""An independent reference for the fixed-point kernel: the rules of :mod:`app.fixedpoint`
written directly, on whole images, in int64 (``>>`` for the floor shifts), and random integer
tables shaped like exported ones that keep every sum within the exactness bound."""

from __future__ import annotations

import numpy as np

F = 12
LEAKY = (41, 12)
EXACT = 2 ** 52
INPUT_CAP = 2 ** 31 - 1
PARAM_LIMIT = 2 ** 24 - 1


# -- random tables ------------------------------------------------------------------------------
def random_layer(rng, prefix, cin, cout, k, transposed=False, cap=2 ** 40, saturate=False) -> tuple[dict[str, np.ndarray], int]:
    """One integer layer with |w| ~ 2**15 / 2**shift ~ 1 / (2 sqrt(fan in)), and the largest
    input clamp (at most ``cap``) that keeps its sums exact.  ``saturate`` makes every weight of
    output channel 0 +2**15, so that inputs at the clamp push its sums up to the bound."""
    fan = cin * k * k // (4 if transposed else 1)
    shift = 15 + int(np.ceil(np.log2(np.sqrt(fan)))) + 1
    w = rng.integers(-2 ** 15, 2 ** 15 + 1, (cin, cout, k, k) if transposed else (cout, cin, k, k))
    if saturate:
        if transposed:
            w[:, 0] = 2 ** 15
        else:
            w[0] = 2 ** 15
    b = rng.integers(-2 ** (F + shift), 2 ** (F + shift), cout) + 2 ** (shift - 1)
    per_out = np.abs(w).sum(axis=(0, 2, 3) if transposed else (1, 2, 3))
    clamp = min(cap, (EXACT - 1 - int(np.abs(b).max())) // int(per_out.max()))
    geom = [int(transposed), 2 if transposed else 1, k // 2, int(transposed)]
    return {f"{prefix}_w": w.astype(np.int32), f"{prefix}_b": b.astype(np.int64),
            f"{prefix}_shift": np.array(shift, np.int64),
            f"{prefix}_geom": np.array(geom, np.int64)}, clamp


def random_hyper(n=16, m=24, seed=0, saturate=False) -> dict[str, np.ndarray]:
    """The fixed-point h_s of a codec (deconv, deconv, conv3), ``n`` -> ``2 m`` channels."""
    rng = np.random.default_rng(seed)
    d, clamps = {}, []
    for i, (transposed, cin, cout, k) in enumerate([(1, n, m, 5), (1, m, m * 3 // 2, 5),
                                                    (0, m * 3 // 2, 2 * m, 3)]):
        layer, clamp = random_layer(rng, f"hs{i}", cin, cout, k, bool(transposed),
                                    saturate=saturate)
        d.update(layer)
        clamps.append(clamp)
    d["hyper_frac_bits"] = np.array(F, np.int64)
    d["hyper_clamp"] = np.array(clamps, np.int64)
    d["hyper_leaky"] = np.array(LEAKY, np.int64)
    d["z_medians_q"] = rng.integers(-3 * 2 ** F, 3 * 2 ** F, n)
    d["scale_table_q"] = np.floor(np.exp(np.linspace(np.log(0.11), np.log(256), 64)) * 2 ** F
                                  ).astype(np.int64)
    return d


def random_checkerboard(m=24, seed=1, hidden=None) -> dict[str, np.ndarray]:
    """A checkerboard context for a latent of ``m`` channels: a 5x5 ``cx``, three 1x1 ``ep``
    layers.  Exported models mask ``cx`` to the taps that reach anchors from the other
    positions; these do not, so that only the rules keep the other positions out."""
    rng = np.random.default_rng(seed)
    hidden = hidden or 2 * m
    d = {}
    cx, cx_clamp = random_layer(rng, "cx", m, 2 * m, 5)
    d.update(cx)
    clamps = [cx_clamp]
    for i, (cin, cout) in enumerate([(4 * m, hidden), (hidden, hidden), (hidden, 2 * m)]):
        layer, clamp = random_layer(rng, f"ep{i}", cin, cout, 1,
                                    cap=INPUT_CAP if i == 0 else 2 ** 40)
        d.update(layer)
        clamps.append(clamp)
    d["context_clamp"] = np.array(clamps, np.int64)
    d["context_param_limit"] = np.array(PARAM_LIMIT, np.int64)
    return d


def random_channels(groups=(2, 2, 4), seed=2, ctx=4, hidden=6) -> dict[str, np.ndarray]:
    """Channel groups ``groups`` on a checkerboard codec: a 3x3 context of ``ctx`` channels in
    every pass that has something decoded before it, two 1x1 layers."""
    rng = np.random.default_rng(seed)
    m, k = sum(groups), len(groups)
    offsets = np.cumsum([0, *groups])[:-1]
    d = {"cc_groups": np.array(groups, np.int64)}
    rows = []
    for i in range(2 * k):
        c, cin = groups[i % k], offsets[i] if i < k else m
        row = [0]
        if cin:
            layer, row[0] = random_layer(rng, f"cc{i}_cx", int(cin), ctx, 3)
            d.update(layer)
        width = 2 * m + (ctx if cin else 0)
        for j, (a, b) in enumerate([(width, hidden), (hidden, 2 * c)]):
            layer, clamp = random_layer(rng, f"cc{i}_ep{j}", a, b, 1,
                                        cap=INPUT_CAP if j == 0 else 2 ** 40)
            d.update(layer)
            row.append(clamp)
        rows.append(row)
    d["cc_clamp"] = np.array(rows, np.int64)
    return d


def symbols(seed, n, m, z_hw, y_hw, spread=9):
    """Random hyper-latent (1, n, *z_hw) and latent (1, m, *y_hw) integer symbols."""
    rng = np.random.default_rng(seed)
    return (rng.integers(-4, 5, (1, n, *z_hw)),
            rng.integers(-spread, spread + 1, (1, m, *y_hw)))


def assert_follows_the_rules(fixed, rules, d, n, m, z_hw, y_hw):
    """The kernel's ``fixed(z, y)`` equals ``rules(d, z, y)``, bit for bit, for ordinary
    symbols and for escapes that hit the clamps."""
    z, y = symbols(1, n, m, z_hw, y_hw, spread=20)
    escapes = np.random.default_rng(2).choice([-(2 ** 31), 0, 2 ** 31 - 1], y.shape)
    for latent in (y, escapes):
        for got, want in zip(fixed(z, latent), rules(d, z, latent)):
            np.testing.assert_array_equal(got, want)
    assert len(np.unique(fixed(z, y)[1])) > 100                 # the values are not trivial



def assert_decoder_follows_the_rules(codec, model_dir, rules, img, quality):
    """A shipped-format codec's decoded means and scale indexes, from its exported
    ``tables.npz``, equal ``rules(tables, z, y)`` on the symbols of a real encode."""
    from app.spec import bitstream as bsf

    with np.load(model_dir / "tables.npz") as t:
        tables = {k: t[k] for k in t.files}
    sym = codec.decode_symbols(bsf.unpack(codec.encode(img, quality)))
    means_q, scales_q = rules(tables, sym.z, sym.y)
    np.testing.assert_array_equal(means_q * 2.0 ** -int(tables["hyper_frac_bits"]),
                                  sym.means.astype(np.float64))
    np.testing.assert_array_equal(scale_index(tables, scales_q), sym.scale_index)
    assert len(np.unique(sym.scale_index)) > 3

# -- the rules, directly --------------------------------------------------------------------
def conv(x, w, b, p):
    """Stride-1 convolution of (cin, h, w) int64, torch layout (cout, cin, k, k)."""
    cout, cin, k, _ = w.shape
    _, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    oh, ow = h + 2 * p - k + 1, wd + 2 * p - k + 1
    out = np.zeros((cout, oh, ow), np.int64) + b[:, None, None]
    for ky in range(k):
        for kx in range(k):
            out += np.einsum("oi,ihw->ohw", w[:, :, ky, kx], xp[:, ky:ky + oh, kx:kx + ow])
    return out


def conv_transpose(x, w, b, s, p, op):
    """Transposed convolution of (cin, h, w) int64, torch layout (cin, cout, k, k)."""
    cin, cout, k, _ = w.shape
    _, h, wd = x.shape
    oh, ow = (h - 1) * s - 2 * p + k + op, (wd - 1) * s - 2 * p + k + op
    full = np.zeros((cout, (h - 1) * s + k + op, (wd - 1) * s + k + op), np.int64)
    for ky in range(k):
        for kx in range(k):
            full[:, ky:ky + (h - 1) * s + 1:s, kx:kx + (wd - 1) * s + 1:s] += \
                np.einsum("io,ihw->ohw", w[:, :, ky, kx], x)
    return full[:, p:p + oh, p:p + ow] + b[:, None, None]


def layer(d, prefix, x):
    """One integer layer: convolve, then floor-shift."""
    w, b = d[f"{prefix}_w"].astype(np.int64), d[f"{prefix}_b"].astype(np.int64)
    transposed, s, p, op = (int(v) for v in d[f"{prefix}_geom"])
    acc = conv_transpose(x, w, b, s, p, op) if transposed else conv(x, w, b, p)
    return acc >> int(d[f"{prefix}_shift"])


def clamp_leaky(d, x, lim):
    num, shift = (int(v) for v in d["hyper_leaky"])
    x = np.clip(x, -lim, lim)
    return np.where(x < 0, (x * num) >> shift, x)


def chain(d, prefixes, clamps, x):
    """Layers one after the other, clamp and LeakyReLU between two."""
    for i, prefix in enumerate(prefixes):
        x = layer(d, prefix, x)
        if i < len(prefixes) - 1:
            x = clamp_leaky(d, x, int(clamps[i]))
    return x


def hyper(d, z_sym):
    """Integer (means_q, scales_q), (1, M, H, W), of the h_s in ``d``."""
    f, clamp = int(d["hyper_frac_bits"]), d["hyper_clamp"]
    z = np.clip(z_sym[0].astype(np.int64), -2 ** 31, 2 ** 31)
    x = np.clip(z * 2 ** f + d["z_medians_q"][:, None, None], -clamp[0], clamp[0])
    x = chain(d, [f"hs{i}" for i in range(len(clamp))], clamp[1:], x)
    m = x.shape[0] // 2
    return x[m:][None], x[:m][None]


def scale_index(d, scales_q):
    """The first scale threshold not smaller than each scale, clipped to the table."""
    table = d["scale_table_q"]
    return np.minimum(np.searchsorted(table, scales_q, side="left"), len(table) - 1)


def anchors_of(h, w):
    r, c = np.mgrid[0:h, 0:w]
    return (r + c) % 2 == 0


def checkerboard_params(d, p, ctx):
    """``P + ep(concat(P, ctx))`` clamped to the parameter limit, (2M, H, W)."""
    clamp = d["context_clamp"]
    x = chain(d, [f"ep{i}" for i in range(len(clamp) - 1)], clamp[2:],
              np.concatenate([p, ctx]))
    lim = int(d["context_param_limit"])
    return np.clip(p + x, -lim, lim)


def checkerboard_p(d, z_sym):
    means_q, scales_q = hyper(d, z_sym)
    lim = int(d["context_clamp"][1])
    return np.clip(np.concatenate([scales_q[0], means_q[0]]), -lim, lim)


def checkerboard_other(d, p, y_sym, means_q):
    """Pass 2's parameters (valid at the non-anchors) from the anchors' symbols and means."""
    f, clamp = int(d["hyper_frac_bits"]), d["context_clamp"]
    a = anchors_of(*p.shape[1:])
    ys = np.clip(y_sym[0].astype(np.int64), -2 ** 31, 2 ** 31)
    x = np.clip(ys * 2 ** f + means_q, -clamp[0], clamp[0]) * a
    ctx = np.clip(layer(d, "cx", x), -clamp[1], clamp[1]) * ~a
    return checkerboard_params(d, p, ctx)


def checkerboard(d, z_sym, y_sym):
    """Integer (means_q, scales_q), (1, M, H, W), of both checkerboard passes."""
    p = checkerboard_p(d, z_sym)
    m = p.shape[0] // 2
    first = checkerboard_params(d, p, np.zeros_like(p))
    second = checkerboard_other(d, p, y_sym, first[m:])
    full = np.where(anchors_of(*p.shape[1:]), first, second)
    return full[m:][None], full[:m][None]


def channel_groups(d, z_sym, y_sym):
    """Integer (means_q, scales_q), (1, M, H, W), of the 2K channel-group passes."""
    f, clamp = int(d["hyper_frac_bits"]), d["cc_clamp"]
    groups = [int(c) for c in d["cc_groups"]]
    offsets = np.cumsum([0, *groups])[:-1]
    m, k = sum(groups), len(groups)
    p = checkerboard_p(d, z_sym)
    h, w = p.shape[1:]
    a = anchors_of(h, w)
    pass_of = np.zeros((m, h, w), int)
    for g, (o, c) in enumerate(zip(offsets, groups)):
        pass_of[o:o + c] = np.where(a, g, k + g)
    ys = np.clip(y_sym[0].astype(np.int64), -2 ** 31, 2 ** 31)
    out = np.zeros((2 * m, h, w), np.int64)
    base = checkerboard_params(d, p, np.zeros_like(p))
    for i in range(2 * k):
        o, c = offsets[i % k], groups[i % k]
        if i == k:            # the other positions' B reads the anchors this model decoded
            base = checkerboard_other(d, p, y_sym, out[m:])
        x = np.clip(base, -clamp[i, 1], clamp[i, 1])
        if f"cc{i}_cx_w" in d:
            cin = o if i < k else m
            decoded = np.clip(ys * 2 ** f + out[m:], -clamp[i, 0], clamp[i, 0]) * (pass_of < i)
            ctx = layer(d, f"cc{i}_cx", decoded[:cin])
            x = np.concatenate([x, np.clip(ctx, -clamp[i, 1], clamp[i, 1])])
        n_ep = clamp.shape[1] - 1
        r = chain(d, [f"cc{i}_ep{j}" for j in range(n_ep)], clamp[i, 2:], x)
        lim = int(d["context_param_limit"])
        own = np.concatenate([base[o:o + c], base[m + o:m + o + c]])
        params = np.clip(own + r, -lim, lim)
        here = pass_of[o] == i
        out[o:o + c][:, here] = params[:c][:, here]
        out[m + o:m + o + c][:, here] = params[c:][:, here]
    return out[m:][None], out[:m][None]
