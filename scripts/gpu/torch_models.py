"""PyTorch definitions of the four reference models, random weights, nothing downloaded:
torchvision ResNet-50, Hugging Face BERT-Base and GPT-2 small (random initialisation), and the
project's own YOLOv5s (v6 architecture: yolov5s.yaml, depth 0.33, width 0.50)."""
from __future__ import annotations

import torch
from torch import nn


def resnet50() -> nn.Module:
    import torchvision

    return torchvision.models.resnet50(weights=None)


class Hidden(nn.Module):
    """Returns one named output of a Hugging Face model called with input_ids only."""

    def __init__(self, model: nn.Module, key: str):
        super().__init__()
        self.model, self.key = model, key

    def forward(self, input_ids):
        return getattr(self.model(input_ids=input_ids), self.key)


def bert_base() -> nn.Module:
    from transformers import BertConfig, BertModel

    cfg = BertConfig()
    cfg._attn_implementation = "eager"
    return Hidden(BertModel(cfg, add_pooling_layer=False), "last_hidden_state")


def gpt2_small() -> nn.Module:
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(use_cache=False)
    cfg._attn_implementation = "eager"
    return Hidden(GPT2LMHeadModel(cfg), "logits")


class ConvBnSiLU(nn.Module):
    def __init__(self, c1, c2, k=1, s=1, p=None):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut):
        super().__init__()
        self.cv1, self.cv2, self.add = ConvBnSiLU(c, c, 1), ConvBnSiLU(c, c, 3), shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=True):
        super().__init__()
        c = c2 // 2
        self.cv1, self.cv2, self.cv3 = ConvBnSiLU(c1, c), ConvBnSiLU(c1, c), ConvBnSiLU(2 * c, c2)
        self.m = nn.Sequential(*[Bottleneck(c, shortcut) for _ in range(n)])

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c = c1 // 2
        self.cv1, self.cv2 = ConvBnSiLU(c1, c), ConvBnSiLU(4 * c, c2)
        self.pool = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        a = self.pool(x)
        b = self.pool(a)
        return self.cv2(torch.cat((x, a, b, self.pool(b)), 1))


class Detect(nn.Module):
    def __init__(self, nc=80, ch=(128, 256, 512), anchors=((10, 13, 16, 30, 33, 23), (30, 61, 62, 45, 59, 119),
                                                           (116, 90, 156, 198, 373, 326)), strides=(8, 16, 32)):
        super().__init__()
        self.no, self.na, self.strides = nc + 5, 3, strides
        self.m = nn.ModuleList(nn.Conv2d(c, self.na * self.no, 1) for c in ch)
        self.register_buffer("anchors", torch.tensor(anchors, dtype=torch.float32).view(3, 3, 2))

    def forward(self, xs):
        z = []
        for i, x in enumerate(xs):
            x = self.m[i](x)
            bs, _, ny, nx = x.shape
            x = x.view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            yv, xv = torch.meshgrid(torch.arange(ny, device=x.device, dtype=x.dtype),
                                    torch.arange(nx, device=x.device, dtype=x.dtype), indexing="ij")
            grid = torch.stack((xv, yv), 2).view(1, 1, ny, nx, 2) - 0.5
            anchor = self.anchors[i].to(x.dtype).view(1, self.na, 1, 1, 2)
            xy, wh, conf = x.sigmoid().split((2, 2, self.no - 4), 4)
            xy = (xy * 2 + grid) * self.strides[i]
            wh = (wh * 2) ** 2 * anchor
            z.append(torch.cat((xy, wh, conf), 4).view(bs, self.na * nx * ny, self.no))
        return torch.cat(z, 1)


class YOLOv5s(nn.Module):
    def __init__(self):
        super().__init__()
        self.b0, self.b1, self.b2 = ConvBnSiLU(3, 32, 6, 2, 2), ConvBnSiLU(32, 64, 3, 2), C3(64, 64, 1)
        self.b3, self.b4 = ConvBnSiLU(64, 128, 3, 2), C3(128, 128, 2)
        self.b5, self.b6 = ConvBnSiLU(128, 256, 3, 2), C3(256, 256, 3)
        self.b7, self.b8, self.b9 = ConvBnSiLU(256, 512, 3, 2), C3(512, 512, 1), SPPF(512, 512)
        self.h10, self.h13 = ConvBnSiLU(512, 256), C3(512, 256, 1, False)
        self.h14, self.h17 = ConvBnSiLU(256, 128), C3(256, 128, 1, False)
        self.h18, self.h20 = ConvBnSiLU(128, 128, 3, 2), C3(256, 256, 1, False)
        self.h21, self.h23 = ConvBnSiLU(256, 256, 3, 2), C3(512, 512, 1, False)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.detect = Detect()

    def forward(self, x):
        p3 = self.b4(self.b3(self.b2(self.b1(self.b0(x)))))
        p4 = self.b6(self.b5(p3))
        p5 = self.b9(self.b8(self.b7(p4)))
        h10 = self.h10(p5)
        h13 = self.h13(torch.cat((self.up(h10), p4), 1))
        h14 = self.h14(h13)
        h17 = self.h17(torch.cat((self.up(h14), p3), 1))
        h20 = self.h20(torch.cat((self.h18(h17), h14), 1))
        h23 = self.h23(torch.cat((self.h21(h20), h10), 1))
        return self.detect([h17, h20, h23])


def _image(b, h=224, w=224):
    return lambda: torch.randn(b, 3, h, w)


def _tokens(b, s=128, vocab=30522):
    return lambda: torch.randint(0, vocab, (b, s))


# name -> (factory, input name, [(case label, input maker)], CNN (channels_last in PyTorch FP16))
MODELS = {
    "resnet50": (resnet50, "input", [("bs1", _image(1)), ("bs32", _image(32))], True),
    "bert": (bert_base, "input_ids", [("bs1_s128", _tokens(1)), ("bs16_s128", _tokens(16))], False),
    "gpt2": (gpt2_small, "input_ids", [("bs1_s128", _tokens(1, 128, 50257))], False),
    "yolov5s": (YOLOv5s, "images", [("bs1_640", _image(1, 640, 640))], True),
}
