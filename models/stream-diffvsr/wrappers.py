"""torch modules with the exact tensor interface of the exported graphs (spec §2.1).

Each wrapper takes the graph's inputs in order, calls the checkpoint's own modules (diffusers'
UNet2DConditionModel and ControlNetModel, the authors' TemporalAutoencoderTiny, torchvision's RAFT)
and returns the graph's outputs. Nothing here branches on tensor values: the first-frame path is
chosen by the runtime (which graph it runs, zero residuals, controlnet_scale 0).
"""
import torch
import torch.nn.functional as F

FEATURES = [f"feat_{i}" for i in range(7)]
RESIDUALS = [f"down_res_{i}" for i in range(12)] + ["mid_res"]
DENOISER_INPUTS = ["latents", "lr_image", "timestep", "encoder_hidden_states"]


def bicubic_x4(image):
    """torch's bicubic ×4 (Keys a = -0.75, half-pixel, no antialias, no clamp); exports as ONNX Resize cubic."""
    return F.interpolate(image, scale_factor=4, mode="bicubic", align_corners=False)


class Flow(torch.nn.Module):
    """flow = RAFT(bicubic4(cur_lr), bicubic4(prev_lr))[-1]: where each current HR pixel was in the previous frame."""

    inputs, outputs = ["cur_lr", "prev_lr"], ["flow"]

    def __init__(self, raft, num_flow_updates=12):
        super().__init__()
        self.raft, self.updates = raft, num_flow_updates

    def forward(self, cur_lr, prev_lr):
        return self.raft(bicubic_x4(cur_lr), bicubic_x4(prev_lr), num_flow_updates=self.updates)[-1]


def flow_warp(image, flow):
    """The reference flow_warp (spec §1.5) with every size taken from tensors, so dynamic shapes stay dynamic:
    grid = 2·(pixel + flow)/max(side − 1, 1) − 1, sampled bilinearly with zeros padding and align_corners=False."""
    xs = torch.arange(flow.shape[3], dtype=flow.dtype, device=flow.device)[None, None, :]
    ys = torch.arange(flow.shape[2], dtype=flow.dtype, device=flow.device)[None, :, None]
    gx = 2.0 * (xs + flow[:, 0]) / xs.max().clamp(min=1) - 1.0
    gy = 2.0 * (ys + flow[:, 1]) / ys.max().clamp(min=1) - 1.0
    return F.grid_sample(image, torch.stack((gx, gy), dim=3), mode="bilinear", padding_mode="zeros", align_corners=False)


class WarpEncode(torch.nn.Module):
    """The warped previous HR output and the TAE encoder's 7 block outputs on it, reversed into decoder order.
    The encoder runs on the raw [-1, 1] image, as the reference's feature path does (spec §1.4)."""

    inputs, outputs = ["prev_hr", "flow"], ["warped_prev_hr"] + FEATURES

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, prev_hr, flow):
        warped = flow_warp(prev_hr, flow)
        self.vae.reset_temporal_condition()
        features = self.vae.encode(warped, return_features_only=True)
        return (warped, *features[::-1])


def denoiser_input(latents, lr_image):
    return torch.cat([latents, lr_image], dim=1)


class ControlNet(torch.nn.Module):
    inputs, outputs = DENOISER_INPUTS + ["warped_prev_hr"], RESIDUALS

    def __init__(self, controlnet, conditioning_scale=1.0):
        super().__init__()
        self.controlnet, self.scale = controlnet, conditioning_scale

    def forward(self, latents, lr_image, timestep, encoder_hidden_states, warped_prev_hr):
        down, mid = self.controlnet(denoiser_input(latents, lr_image), timestep, encoder_hidden_states=encoder_hidden_states,
                                    controlnet_cond=warped_prev_hr, conditioning_scale=self.scale, guess_mode=False, return_dict=False)
        return (*down, mid)


class UNet(torch.nn.Module):
    """v-prediction with the ControlNet residuals added; all-zero residuals equal "no ControlNet" exactly."""

    inputs, outputs = DENOISER_INPUTS + RESIDUALS, ["model_output"]

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, latents, lr_image, timestep, encoder_hidden_states, *residuals):
        return self.unet(denoiser_input(latents, lr_image), timestep, encoder_hidden_states=encoder_hidden_states,
                         down_block_additional_residuals=list(residuals[:12]), mid_block_additional_residual=residuals[12],
                         return_dict=False)[0]


class UNetStep(torch.nn.Module):
    """ControlNet and UNet fused; residuals scaled by controlnet_scale (0 on the first frame) so they never leave the device."""

    inputs, outputs = DENOISER_INPUTS + ["warped_prev_hr", "controlnet_scale"], ["model_output"]

    def __init__(self, unet, controlnet):
        super().__init__()
        self.unet, self.controlnet = UNet(unet), ControlNet(controlnet, 1.0)

    def forward(self, latents, lr_image, timestep, encoder_hidden_states, warped_prev_hr, controlnet_scale):
        residuals = self.controlnet(latents, lr_image, timestep, encoder_hidden_states, warped_prev_hr)
        return self.unet(latents, lr_image, timestep, encoder_hidden_states, *[r * controlnet_scale for r in residuals])


class Decode(torch.nn.Module):
    """First-frame decoder: no temporal features (zero features are not equivalent, so this is its own graph)."""

    inputs, outputs = ["latents"], ["image"]

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latents):
        self.vae.reset_temporal_condition()
        return self.vae.decode(latents / self.vae.config.scaling_factor, return_dict=False)[0]


class DecodeTemporal(torch.nn.Module):
    inputs, outputs = ["latents"] + FEATURES, ["image"]

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latents, *features):
        image = self.vae.decode(latents / self.vae.config.scaling_factor, temporal_features=list(features), return_dict=False)[0]
        self.vae.reset_temporal_condition()
        return image


FRAME_OUTPUTS = ["hr", "frame", "levels"]


class FrameGraph(torch.nn.Module):
    """One whole frame (spec §1.8) in one graph, so that only pictures cross between host and device:
    flow, warp and features (history kind), the `steps` denoising steps unrolled (ControlNet → UNet;
    the first-frame kind runs the UNet without residuals, which equals all-zero residuals), the DDIM
    v-prediction arithmetic of scheduler.ts (η = 0, no clipping), the decoder, and the reference's
    quantisation round_half_even(clamp(x/2 + 0.5, 0, 1)·255) as uint8 (`frame`) and as level/255
    (`levels`). The schedule is fed: timesteps [S] and step_coefficients [S, 4] = √ᾱ_t, √(1−ᾱ_t),
    √ᾱ_prev, √(1−ᾱ_prev) in float32, so one graph serves any timesteps of its step count. The text
    embedding is a constant of the graph."""

    def __init__(self, kind, steps, raft, unet, controlnet, vae, embeds):
        super().__init__()
        if kind not in ("first", "history"):
            raise ValueError(kind)
        self.kind, self.steps = kind, steps
        self.inputs = (["prev_lr", "prev_hr"] if kind == "history" else []) + ["lr", "noise", "timesteps", "step_coefficients"]
        self.outputs = FRAME_OUTPUTS
        self.flow, self.warp = Flow(raft), WarpEncode(vae)
        self.controlnet, self.unet = ControlNet(controlnet), UNet(unet)
        self.decode, self.decode_temporal = Decode(vae), DecodeTemporal(vae)
        self.register_buffer("text", embeds.detach().clone().float(), persistent=False)

    def forward(self, *args):
        named = dict(zip(self.inputs, args))
        lr, z, timesteps, c = named["lr"], named["noise"], named["timesteps"], named["step_coefficients"]
        guide = None
        if self.kind == "history":
            flow = self.flow(lr, named["prev_lr"])
            warped, *features = self.warp(named["prev_hr"], flow)
            guide = (warped, features)
        for i in range(self.steps):
            t = timesteps[i:i + 1]
            if guide is None:
                v = self.unet.unet(denoiser_input(z, lr), t, encoder_hidden_states=self.text, return_dict=False)[0]
            else:
                residuals = self.controlnet(z, lr, t, self.text, guide[0])
                v = self.unet(z, lr, t, self.text, *residuals)
            sa, sb, sp, sd = c[i, 0], c[i, 1], c[i, 2], c[i, 3]
            x0 = sa * z - sb * v
            eps = sa * v + sb * z
            z = sp * x0 + sd * eps
        hr = self.decode(z) if guide is None else self.decode_temporal(z, *guide[1])
        level = torch.round(torch.clamp(hr * 0.5 + 0.5, 0.0, 1.0) * 255.0)  # torch.round and ONNX Round: half to even
        return hr, level.to(torch.uint8), level / 255.0
