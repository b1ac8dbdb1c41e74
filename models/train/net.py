"""A small causal video SR network with the superResolve operator's one-frame history window.

Inputs (N,3,H,W) `frame`, (N,3,H,W) `previousFrame`, (N,3,sH,sW) `previousOutput`, all 0..1, the
history zeros on the first frame. The previous HR output is folded to LR resolution (a stride-s
convolution: space-to-depth and a channel mix in one), warped there by the flow a tiny motion
estimator finds between the two LR frames (GridSample at LR: the same warp at HR cost 3x more than
the whole network in onnxruntime), and fed with the current frame to a plain LeakyReLU convolution body whose s*s*3
channels are a residual over a fixed bicubic skip, unfolded by depth-to-space. Everything
that costs runs at LR resolution; at HR there is only the fold's read and the final unfold.

`warp_at` picks where the history is warped: 'lr' as above (round 1); 'hr' warps the previous
output itself by whole HR pixels before the fold (warp_hr, rounds 2 and 3: keeps detail a bilinear
warp blurs); 'hr-block' is 'hr' with one shift per LR pixel (warp_hr_block), the form the shipped
graphs are exported in (export.py --warp-at), as ONNX Runtime runs it several times faster.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def lrelu(x):
    return F.leaky_relu(x, 0.1)


class MotionEstimator(nn.Module):
    """Flow (in LR pixels) from the previous to the current LR frame, computed at half LR resolution."""

    def __init__(self, ch=16, channels=3):
        super().__init__()
        self.c1 = nn.Conv2d(2 * channels, ch, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1)
        self.c3 = nn.Conv2d(ch, ch, 3, padding=2, dilation=2)
        self.c4 = nn.Conv2d(ch, ch, 3, padding=4, dilation=4)
        self.out = nn.Conv2d(ch, 2, 3, padding=1)

    def forward(self, cur, prev):
        x = lrelu(self.c1(torch.cat((cur, prev), 1)))
        x = lrelu(self.c2(x))
        x = lrelu(self.c3(x))
        x = lrelu(self.c4(x))
        return self.out(x) * 2.0  # LR pixels; the factor lets a small init still reach a few pixels


def warp(features, flow_half):
    """Backward-warp LR-resolution features by a half-LR-resolution flow given in LR pixels."""
    n, _, h, w = features.shape
    flow = F.interpolate(flow_half, size=(h, w), mode='bilinear', align_corners=False)
    xs = (torch.arange(w, dtype=features.dtype, device=features.device) * 2 + 1) / w - 1
    ys = (torch.arange(h, dtype=features.dtype, device=features.device) * 2 + 1) / h - 1
    gx = xs.view(1, 1, w) + flow[:, 0] * (2.0 / w)
    gy = ys.view(1, h, 1) + flow[:, 1] * (2.0 / h)
    grid = torch.stack((gx, gy), -1)
    return F.grid_sample(features, grid, mode='bilinear', padding_mode='border', align_corners=False)


def warp_hr(image, flow_half, scale):
    """Backward-warp the HR previous output by the half-LR-resolution flow (LR pixels, so x scale at HR),
    nearest sample: a whole-HR-pixel shift keeps the detail that bilinear resampling would blur, and in
    onnxruntime it costs a third of a bilinear GridSample at this size."""
    n, _, h, w = image.shape
    flow = F.interpolate(flow_half, size=(h, w), mode='bilinear', align_corners=False)
    xs = (torch.arange(w, dtype=image.dtype, device=image.device) * 2 + 1) / w - 1
    ys = (torch.arange(h, dtype=image.dtype, device=image.device) * 2 + 1) / h - 1
    gx = xs.view(1, 1, w) + flow[:, 0] * (2.0 * scale / w)
    gy = ys.view(1, h, 1) + flow[:, 1] * (2.0 * scale / h)
    grid = torch.stack((gx, gy), -1)
    return F.grid_sample(image, grid, mode='nearest', padding_mode='border', align_corners=False)


def warp_hr_block(image, flow_half, scale, channels=1):
    """warp_hr with one whole-HR-pixel shift per LR pixel (its s x s block of the HR frame): the flow
    interpolated to LR pixel centres, times s, rounded, applied to the whole block, edge-clamped per
    coordinate. A plain Gather of indices built mostly at LR, where ONNX Runtime's GridSample at HR
    works on one core and needs an HR grid (a Resize, a Transpose and elementwise ops at HR): the
    flow is that of half LR pixels, so within a block it barely moves and rounds to the same shift.
    `channels`: the image's, as a Python number, so an export of a luma network has no Expand."""
    n, c, hh, ww = image.shape
    h, w = hh // scale, ww // scale
    flow = F.interpolate(flow_half, size=(h, w), mode='bilinear', align_corners=False)
    shift = torch.round(flow * scale).to(torch.int64)  # (n, 2, h, w) whole HR pixels
    s = torch.arange(scale, device=image.device)
    cols = (torch.arange(w, device=image.device) * scale).view(1, 1, 1, w, 1) + s.view(1, 1, 1, 1, scale)
    rows = (torch.arange(h, device=image.device) * scale).view(1, h, 1, 1, 1) + s.view(1, 1, scale, 1, 1)
    x = torch.clamp(cols + shift[:, 0].view(n, h, 1, w, 1), 0, ww - 1)  # (n, h, 1, w, s)
    # rows times the width before the clamp (its bounds scaled alike), so the product is taken at LR
    y = torch.clamp(rows * ww + (shift[:, 1] * ww).view(n, h, 1, w, 1), 0, (hh - 1) * ww)  # (n, h, s, w, 1)
    index = (y + x).reshape(n, 1, hh * ww)  # (n, h, s, w, s): HR raster order
    if channels > 1:
        index = index.expand(n, c, hh * ww)
    return torch.gather(image.reshape(n, c, hh * ww), 2, index).view(n, c, hh, ww)


def bicubic_phase_weights(scale, a=-0.6, channels=3):
    """(channels*s*s, 1, 5, 5) grouped-conv weights giving each output phase of a half-pixel-centred bicubic upscale."""
    def keys(t):
        t = abs(t)
        if t <= 1:
            return (a + 2) * t**3 - (a + 3) * t**2 + 1
        return a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a if t < 2 else 0.0

    def taps(p):
        d = (p + 0.5) / scale - 0.5
        return [keys(d - (k - 2)) if abs(d - (k - 2)) < 2 else 0.0 for k in range(5)]

    phase = torch.tensor([[ty * tx for ty in taps(py) for tx in taps(px)] for py in range(scale) for px in range(scale)])
    return phase.view(1, scale * scale, 5, 5).repeat(channels, 1, 1, 1).reshape(channels * scale * scale, 1, 5, 5)


class CausalSR(nn.Module):
    """`channels`: 3 for RGB, 1 for luma (Y in, Y out: the pipeline scales chroma with swscale)."""

    def __init__(self, scale=4, ch=32, body=4, flow_ch=16, hist_ch=12, history=True, warp_at='lr', channels=3, mismatch=False):
        super().__init__()
        self.scale, self.history, self.warp_at, self.channels = scale, history, warp_at, channels
        # mismatch: the head also sees |current LR - previous LR warped by the flow|, where the flow
        # is wrong (occlusions, a pan that sped up) or the scene changed, so it can discount the history there
        self.mismatch = mismatch and history
        c = channels
        self.last_flow = None  # the flow of the last forward, for the training's motion loss
        s2 = scale * scale
        if history:
            self.motion = MotionEstimator(flow_ch, c)
            # space-to-depth of the previous output and a 1x1 mix in one strided convolution: reads the HR
            # frame once, and the warp then moves hist_ch LR channels instead of 3 HR ones
            self.fold = nn.Conv2d(c, hist_ch, scale, stride=scale)
        self.head = nn.Conv2d(c + (hist_ch if history else 0) + (c if self.mismatch else 0), ch, 3, padding=1)
        self.body = nn.ModuleList(nn.Conv2d(ch, ch, 3, padding=1) for _ in range(body))
        self.tail = nn.Conv2d(ch, c * s2, 3, padding=1)
        # the skip: exact bicubic (Keys a=-0.6 as ffmpeg, edge replicated), every output phase of each
        # colour from a 5x5 LR neighbourhood as a grouped convolution at LR, far cheaper than a Resize at
        # HR; fixed, because Adam's steps on it made it drift away from bicubic faster than the body learned
        self.skip = nn.Conv2d(c, c * s2, 5, groups=c)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0.1, nonlinearity='leaky_relu')
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.tail.weight, std=1e-3)
        with torch.no_grad():
            self.skip.weight.copy_(bicubic_phase_weights(scale, channels=c))
            self.skip.bias.zero_()
        self.skip.requires_grad_(False)
        if history:
            nn.init.normal_(self.motion.out.weight, std=1e-3)

    def forward(self, frame, prev_frame=None, prev_out=None):
        s = self.scale
        cur = frame - 0.5
        feats = [cur]
        if self.history:
            flow = self.motion(cur, prev_frame - 0.5)
            self.last_flow = flow
            if self.warp_at == 'hr':
                feats.append(self.fold(warp_hr(prev_out, flow, s)))
            elif self.warp_at == 'hr-block':
                feats.append(self.fold(warp_hr_block(prev_out, flow, s, self.channels)))
            else:
                feats.append(warp(self.fold(prev_out), flow))  # centring is in fold's bias
            if self.mismatch:
                feats.append((cur - warp(prev_frame - 0.5, flow)).abs())
        x = lrelu(self.head(torch.cat(feats, 1)))
        for conv in self.body:
            x = lrelu(conv(x))
        return F.pixel_shuffle(self.tail(x) + self.skip(F.pad(frame, (2, 2, 2, 2), mode='replicate')), s)


def macs_per_lr_pixel(model):
    """Multiply-accumulates of the convolutions per LR input pixel (the flow part runs at 1/4 of the pixels)."""
    total = 0.0
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels * m.out_channels / m.groups
            stride_cost = 0.25 if name.startswith('motion') else 1.0
            total += k * stride_cost
    return total


if __name__ == '__main__':
    for channels in (3, 1):
        for scale in (4, 2):
            m = CausalSR(scale, channels=channels)
            params = sum(p.numel() for p in m.parameters())
            print(f'x{scale} {"RGB" if channels == 3 else "luma"}: {params} parameters, '
                  f'{macs_per_lr_pixel(m) * 320 * 180 / 1e9:.2f} GMAC per 320x180 frame')
