"""A wider denoiser starts from a narrower trained one computing exactly what it computed."""

import pytest

torch = pytest.importorskip("torch")

from training.archs import build  # noqa: E402
from training.archs.widen import widen_state  # noqa: E402


def _denoiser(widths):
    return build("realnoise_denoiser_unet", widths=widths, blocks=1, bottleneck_dilations=[],
                 estimator_width=16)


def _trained_narrow():
    torch.manual_seed(3)
    narrow = _denoiser([8, 16, 24])
    with torch.no_grad():  # every weight non-zero, as after training (fresh tails are zero)
        for p in narrow.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
    return narrow


def test_the_widened_model_computes_what_the_narrow_one_did():
    narrow = _trained_narrow()
    wide = _denoiser([8, 16, 40])
    wide.load_state_dict(wide.adapt_init_state(narrow.state_dict()))
    x = torch.rand(2, 3, 32, 32)
    narrow.eval(), wide.eval()
    with torch.no_grad():
        assert torch.equal(narrow.blind(x), wide.blind(x))


def test_new_channels_start_live_and_the_old_ones_keep_their_weights():
    narrow = _trained_narrow()
    wide = _denoiser([8, 16, 40])
    state = widen_state(wide, narrow.state_dict())
    old = narrow.state_dict()
    conv = "net.bottleneck.0.body.0.weight"          # Conv2d: (out, in, k, k), 24 -> 40
    assert torch.equal(state[conv][:24, :24], old[conv])
    assert not state[conv][:24, 24:].any()          # new inputs into old outputs: zero
    assert state[conv][24:].abs().sum() > 0         # new outputs: fresh, not zero
    up = "net.ups.0.weight"                          # ConvTranspose2d: (in, out, k, k)
    assert torch.equal(state[up][:24], old[up])
    assert not state[up][24:].any()                  # its new inputs feed only old outputs

    wide.load_state_dict(state)
    loss = wide.blind(torch.rand(1, 3, 32, 32)).square().mean()
    loss.backward()
    grad = dict(wide.named_parameters())[conv].grad
    assert grad[:24, 24:].abs().sum() > 0            # the zero block learns


def test_a_kernel_size_change_is_left_for_load_state_dict_to_refuse():
    narrow = _trained_narrow()
    state = {k: v for k, v in narrow.state_dict().items()}
    state["net.head.weight"] = torch.zeros(8, 4, 5, 5)
    wide = _denoiser([8, 16, 40])
    with pytest.raises(RuntimeError, match="size mismatch"):
        wide.load_state_dict(wide.adapt_init_state(state))
