"""Zoo models for sequence and attention patterns exported the ordinary way (torch.onnx.export with the
TorchScript exporter's defaults): a CRNN with a 2-layer bidirectional LSTM whose initial states come from an
Expand, a small ViT (timm-style attention: qkv reshape/permute, scaled q), PP-OCR-like SVTR blocks. Plain
torch; imported by tools/make_zoo.py, which adds them to the zoo."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CRNNBiLSTM(nn.Module):
    """Conv features -> [N, T, C] sequence -> 2-layer bidirectional LSTM (batch_first) with explicit zero
    initial states expanded to the batch -> per-step class logits."""

    def __init__(self, hidden: int = 24, classes: int = 11) -> None:
        super().__init__()
        self.hidden = hidden
        self.conv = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU(),
                                  nn.MaxPool2d((2, 2)), nn.Conv2d(16, 32, 3, 1, 1), nn.ReLU(),
                                  nn.MaxPool2d((8, 1)))
        self.lstm = nn.LSTM(32, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        f = self.conv(image)                       # [N, 32, 1, W/2]
        seq = f.squeeze(2).permute(0, 2, 1)        # [N, T, 32]
        n = seq.shape[0]
        h0 = torch.zeros(4, 1, self.hidden).expand(4, n, self.hidden).contiguous()
        out, _ = self.lstm(seq, (h0, h0))
        return self.fc(out)


class Attention(nn.Module):
    """timm/PaddleOCR-style multi-head attention: one qkv Linear, 5-D reshape + permute, q scaled first."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, act: type[nn.Module] = nn.GELU) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim, eps=1e-6), Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), act(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    """Patch embedding (strided conv), class token + position embedding, 2 blocks, LayerNorm, head."""

    def __init__(self, dim: int = 32, heads: int = 4, classes: int = 10) -> None:
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 8, 8)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, 17, dim) * 0.02)
        self.blocks = nn.Sequential(Block(dim, heads), Block(dim, heads))
        self.norm, self.head = nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.patch(image).flatten(2).transpose(1, 2)  # [N, 16, dim]
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.norm(self.blocks(x))[:, 0])


class SVTRTiny(nn.Module):
    """PP-OCR-like recogniser neck: conv stem with HardSwish, [N,C,H,W] -> tokens, 2 global-attention SVTR
    blocks (Swish MLP), back to [N,C,H,W], 1x1 conv, height pooling, per-column CTC logits (softmax)."""

    def __init__(self, dim: int = 32, heads: int = 4, classes: int = 12) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.Hardswish(),
                                  nn.Conv2d(16, dim, 3, (2, 1), 1), nn.BatchNorm2d(dim), nn.Hardswish())
        self.blocks = nn.Sequential(Block(dim, heads, nn.SiLU), Block(dim, heads, nn.SiLU))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.conv = nn.Sequential(nn.Conv2d(dim, dim, 1), nn.BatchNorm2d(dim), nn.Hardswish())
        self.fc = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.stem(x)                                  # [N, C, H, W]
        n, c, h, w = f.shape
        t = self.norm(self.blocks(f.flatten(2).permute(0, 2, 1)))
        f = self.conv(t.permute(0, 2, 1).reshape(n, c, h, w))
        f = F.adaptive_avg_pool2d(f, (1, w)).squeeze(2).permute(0, 2, 1)  # [N, W, C]
        return self.fc(f).softmax(dim=2)


# name: (model class, {input name: shape}, [output names]); merged into make_zoo.ZOO
MODELS: dict[str, tuple[type[nn.Module], dict[str, list[int]], list[str]]] = {
    "crnn_bilstm": (CRNNBiLSTM, {"image": [1, 1, 16, 48]}, ["logits"]),
    "vit_tiny": (TinyViT, {"image": [1, 3, 32, 32]}, ["logits"]),
    "svtr_tiny": (SVTRTiny, {"image": [1, 3, 16, 64]}, ["probs"]),
}
