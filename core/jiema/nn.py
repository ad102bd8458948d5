"""PyTorch inference helpers shared by plugins. Importing this module imports torch: import it
only inside the functions that load a network, never at a plugin's top level."""

from __future__ import annotations

import torch
from torch import nn


class StridedMaxPool(nn.Module):
    """`nn.MaxPool2d` with a kernel equal to its stride (2x2, 2x1, ...) and no padding, as an
    elementwise maximum over strided slices. Same outputs (floor mode: trailing rows and columns
    that do not fill a window are dropped), but on CPU about 5x faster than PyTorch's pooling
    kernel for the small-channel maps of OCR and captcha networks, where that kernel took as
    long as the convolutions."""

    def __init__(self, kh: int, kw: int) -> None:
        super().__init__()
        self.kh, self.kw = kh, kw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2] // self.kh * self.kh, x.shape[-1] // self.kw * self.kw
        x = x[..., :h, :w]
        out: torch.Tensor | None = None
        for i in range(self.kh):
            for j in range(self.kw):
                part = x[..., i::self.kh, j::self.kw]
                out = part if out is None else torch.maximum(out, part)
        assert out is not None
        return out


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def swap_max_pools(net: nn.Module) -> nn.Module:
    """Replace, in place, every `nn.MaxPool2d` of `net` whose kernel equals its stride (no
    padding, no dilation, floor mode) by a `StridedMaxPool`; others stay. Returns `net`."""
    for name, child in list(net.named_children()):
        if isinstance(child, nn.MaxPool2d):
            k, s = _pair(child.kernel_size), _pair(child.stride or child.kernel_size)
            if (k == s and _pair(child.padding) == (0, 0) and _pair(child.dilation) == (1, 1)
                    and not child.ceil_mode and not child.return_indices):
                setattr(net, name, StridedMaxPool(*k))
        else:
            swap_max_pools(child)
    return net


def fold_batch_norms(net: nn.Module) -> nn.Module:
    """Fold, in place, each batch norm that directly follows a convolution or a linear layer
    in an `nn.Sequential` into that layer (eval mode: the norm is then an affine map); the norm
    becomes an `nn.Identity`. Same outputs up to float rounding, one pass less over each
    feature map. Returns `net`."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

    net.eval()
    for module in net.modules():
        if not isinstance(module, nn.Sequential):
            continue
        for i in range(len(module) - 1):
            layer, norm = module[i], module[i + 1]
            if isinstance(layer, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                module[i] = fuse_conv_bn_eval(layer, norm)
            elif isinstance(layer, nn.Linear) and isinstance(norm, nn.BatchNorm1d):
                module[i] = fuse_linear_bn_eval(layer, norm)
            else:
                continue
            module[i + 1] = nn.Identity()
    return net


def for_cpu_inference(net: nn.Module) -> nn.Module:
    """`net` in eval mode with its batch norms folded (`fold_batch_norms`), its max pools
    strided (`swap_max_pools`) and its weights in the channels-last layout, where oneDNN's CPU
    convolutions over few channels run about a quarter faster (outputs equal up to float
    rounding). Returns `net`."""
    fold_batch_norms(net)
    swap_max_pools(net)
    net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return net


def quantize_linears(net: nn.Module) -> nn.Module:
    """`net` with its `nn.Linear` layers dynamically quantised to int8 (weights stored int8,
    activations quantised per call). A wide classifier head over thousands of classes is bound
    by reading its float32 weights: int8 runs it about three times faster on CPU, and its
    probabilities move by well under a percent. Where this PyTorch has no dynamic
    quantisation (it is deprecated in favour of torchao), `net` is returned unchanged."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notices of torch.ao.quantization
        try:
            from torch.ao.quantization import quantize_dynamic
        except ImportError:
            return net
        if torch.backends.quantized.engine == "none":
            return net
        return quantize_dynamic(net, {nn.Linear}, dtype=torch.qint8)


class PointwiseAsMatmul(nn.Module):
    """A 1x1 convolution (`nn.Conv1d` or `nn.Conv2d`, no groups) as one matrix product over the
    positions. Same sums; the output is a channels-last view, so a caller that moves the
    channels last again (a CTC head's `(B, T, K)`) gets contiguous rows. For a wide head (a
    line recogniser's ~6,900 classes, in bfloat16 where AMX runs matrix products) it took the
    news screenshot's head from 174 to 104 ms against the float32 convolution, one thread."""

    def __init__(self, conv: nn.Conv1d | nn.Conv2d) -> None:
        super().__init__()
        _check_pointwise(conv, "PointwiseAsMatmul")
        self.weight = nn.Parameter(conv.weight.detach().flatten(1).t().contiguous(),
                                   requires_grad=False)  # (C_in, C_out)
        self.bias = (nn.Parameter(conv.bias.detach().clone(), requires_grad=False)
                     if conv.bias is not None else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.movedim(1, -1)  # (B, ..., C_in)
        flat = rows.reshape(-1, rows.shape[-1])
        out = (torch.addmm(self.bias, flat, self.weight) if self.bias is not None
               else flat @ self.weight)
        return out.reshape(*rows.shape[:-1], -1).movedim(-1, 1)


def _check_pointwise(conv: nn.Conv1d | nn.Conv2d, what: str) -> None:
    if any(k != 1 for k in conv.kernel_size) or conv.groups != 1:
        raise ValueError(f"{what} needs a 1x1 convolution without groups")


class PointwiseAsLinear(nn.Module):
    """A 1x1 convolution (`nn.Conv1d` or `nn.Conv2d`, no groups) as an `nn.Linear` over each
    position's channels, so that `quantize_linears` can run it in int8 where the CPU has no
    native bfloat16 (`PointwiseAsMatmul` is for where it has). Same sums in float32; the output
    is a channels-last view, as `PointwiseAsMatmul`'s."""

    def __init__(self, conv: nn.Conv1d | nn.Conv2d) -> None:
        super().__init__()
        _check_pointwise(conv, "PointwiseAsLinear")
        self.linear = nn.Linear(conv.in_channels, conv.out_channels, bias=conv.bias is not None)
        with torch.no_grad():
            self.linear.weight.copy_(conv.weight.detach().flatten(1))
            if conv.bias is not None:
                self.linear.bias.copy_(conv.bias.detach())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.movedim(1, -1)).movedim(-1, 1)  # type: ignore[no-any-return]


class InBFloat16(nn.Module):
    """A module run in bfloat16: its input cast down, its output cast back to the input's
    dtype. Built by `in_bfloat16`."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner.to(torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.to(torch.bfloat16)).to(x.dtype)  # type: ignore[no-any-return]


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 convolutions natively (AVX-512 BF16 or AMX), where
    they run about 2.5x faster than float32; elsewhere they are emulated and slower."""
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def in_bfloat16(module: nn.Module) -> nn.Module:
    """`module` wrapped to run in bfloat16 (`InBFloat16`) where the CPU does that natively
    (`native_bfloat16`), else unchanged. Convolution stacks keep their outputs to about 1% of
    their scale (bfloat16 keeps 8 bits of mantissa), so use it where that noise is measured to
    leave the results be."""
    return InBFloat16(module) if native_bfloat16() else module
