"""AdaIN: the output takes the style's per-channel mean and std and keeps the content's pattern."""

import torch

from introdl.nn.adain import AdaIN, adain, channel_stats


def test_output_has_the_styles_per_channel_mean_and_std():
    torch.manual_seed(0)
    content = torch.randn(2, 4, 8, 8) * 3 + 1
    style = torch.randn(2, 4, 5, 6) * torch.tensor([0.5, 2.0, 1.0, 4.0])[None, :, None, None] \
        + torch.tensor([-1.0, 0.0, 2.0, 5.0])[None, :, None, None]
    out = adain(content, style)
    m_o, s_o = channel_stats(out)
    m_s, s_s = channel_stats(style)
    torch.testing.assert_close(m_o, m_s, atol=1e-4, rtol=0)
    torch.testing.assert_close(s_o, s_s, atol=1e-3, rtol=1e-3)


def test_channel_stats_match_torch_std_and_instance_norm():
    torch.manual_seed(1)
    x = torch.randn(3, 2, 7, 7)
    mean, std = channel_stats(x, eps=0.0)
    torch.testing.assert_close(std.flatten(), x.flatten(2).std(2, unbiased=False).flatten())
    # AdaIN with a unit-std zero-mean style is instance norm
    torch.testing.assert_close(AdaIN(eps=1e-5)(x, torch.zeros(3, 2), torch.ones(3, 2)),
                               torch.nn.functional.instance_norm(x, eps=1e-5), atol=1e-5,
                               rtol=0)


def test_content_pattern_is_kept():
    torch.manual_seed(2)
    content = torch.randn(1, 3, 6, 6)
    out = AdaIN()(content, torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[0.5, 0.5, 2.0]]))
    for c in range(3):  # a positive affine map of each channel: correlation 1
        a, b = content[0, c].flatten(), out[0, c].flatten()
        assert torch.corrcoef(torch.stack([a, b]))[0, 1] > 0.9999
