"""Smoke test of export.py's per-frame graphs without the checkpoint: export_frame_graphs() (the
exporter's own code path) on tiny stand-ins for RAFT, the UNet, the ControlNet and the TAE with the
call signatures of torchvision, diffusers and the authors' classes. Writes into OUT the graphs,
frame_graphs.json (the manifest entries), the separate graphs (export_all) with a manifest.json
for both, and, per frame kind, the inputs it traced with and the
module's own outputs (raw little-endian), for test/stream-diffvsr-exporter-smoke.test.ts.

  python3 test/parity/frame_graph_smoke.py MODELS_DIR OUT
"""
import json
import os
import sys
import types

import torch

sys.path.insert(0, sys.argv[1])
import export  # noqa: E402
import graphs  # noqa: E402
import wrappers  # noqa: E402


class Raft(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.c = torch.nn.Conv2d(6, 2, 3, padding=1)
    def forward(self, a, b, num_flow_updates=12):
        return [self.c(torch.cat([a, b], 1))]

class Unet(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.c = torch.nn.Conv2d(7, 4, 3, padding=1); self.t = torch.nn.Linear(16, 4)
    def forward(self, x, t, encoder_hidden_states=None, down_block_additional_residuals=None, mid_block_additional_residual=None, return_dict=False):
        y = self.c(x) + 1e-3 * t.view(1, 1, 1, 1) + self.t(encoder_hidden_states).mean()
        if down_block_additional_residuals is not None:
            y = y + sum(r.mean() for r in down_block_additional_residuals) + mid_block_additional_residual.mean()
        return (y,)

class ControlNet(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.c = torch.nn.Conv2d(7, 8, 3, padding=1); self.d = torch.nn.Conv2d(3, 8, 4, stride=4)
    def forward(self, x, t, encoder_hidden_states=None, controlnet_cond=None, conditioning_scale=1.0, guess_mode=False, return_dict=False):
        f = self.c(x) + self.d(controlnet_cond) + 1e-4 * t.view(1, 1, 1, 1) + encoder_hidden_states.mean()
        level = lambda k: f if k == 0 else torch.nn.functional.avg_pool2d(f, 2 ** k)  # noqa: E731
        down = [level([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3][k]) * (k + 1) / 12 for k in range(12)]
        return down, level(3) * conditioning_scale

class Vae(torch.nn.Module):
    config = types.SimpleNamespace(scaling_factor=1.0)
    def __init__(self):
        super().__init__(); self.up = torch.nn.ConvTranspose2d(4, 3, 4, stride=4); self.e = torch.nn.Conv2d(3, 4, 1)
    def reset_temporal_condition(self):
        pass
    def encode(self, x, return_features_only=True):
        f = self.e(x)  # encoder order: HR size first; the wrapper reverses into feat_0..6
        pool = lambda k: torch.nn.functional.avg_pool2d(f, k)  # noqa: E731
        return [f * 0.1, pool(2) * 0.2, pool(2) * 0.3, pool(2) * 0.4, pool(4) * 0.5, pool(4) * 0.6, pool(4) * 0.7]
    def decode(self, z, temporal_features=None, return_dict=False):
        y = self.up(z) * 1.7
        if temporal_features is not None:
            y = y + sum(t.mean() for t in temporal_features)
        return (y,)


def main():
    models_dir, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    h, w = 32, 40
    schedule = {"timesteps": [999, 749, 499, 249], "alphas_cumprod_t": [0.000733411987, 0.0386055075, 0.333187819, 0.821521223],
                "alphas_cumprod_prev": [0.0386055075, 0.333187819, 0.821521223, 0.999899983]}
    embeds = torch.randn(1, 77, 16) * 0.1
    raft, unet, cn, vae = Raft().eval(), Unet().eval(), ControlNet().eval(), Vae().eval()
    args = types.SimpleNamespace(out=out, opset=17, fp16=False, verify=False, device="cpu", dynamic=False, no_pair=False, fused_unet_step=False)
    entries = export.export_frame_graphs(args, [(h, w)], raft, unet, cn, vae, embeds, schedule)
    with open(os.path.join(out, "frame_graphs.json"), "w") as f:
        json.dump(entries, f, indent=1)
    # the separate graphs too, by export_all, and a manifest: the runtime can run both paths
    modules = export.graph_modules(args, unet, cn, vae, raft)
    parts = export.export_all(args, [(h, w)], modules, embeds, {"unet": unet, "controlnet": cn, "vae": vae})
    embeds.numpy().astype("<f4").tofile(os.path.join(out, "empty_prompt_embeds.f32"))
    manifest = {
        "format": "stream-diffvsr-onnx/1", "scale": 4, "latent_channels": 4,
        "profiles": [{"name": export.profile_name((h, w)), "lr": [h, w], "hr": [4 * h, 4 * w]}],
        "input_constraints": {"lr_multiple": 4, "min_lr_side": 32},
        "scheduler": {"prediction_type": "v_prediction", "num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02,
                      "beta_schedule": "scaled_linear", "timestep_spacing": "trailing", "steps_offset": 1, "set_alpha_to_one": False,
                      "num_inference_steps": 4, "final_alpha_cumprod": 0.999899983, **schedule},
        "text_embedding": {"file": "empty_prompt_embeds.f32", "shape": list(embeds.shape)},
        "graphs": parts, "frame_graphs": entries,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    samples = graphs.Samples({"unet": unet, "controlnet": cn, "vae": vae}, embeds, (h, w), torch.device("cpu"), schedule)
    for kind in ("first", "history"):
        module = wrappers.FrameGraph(kind, 4, raft, unet, cn, vae, embeds).eval()
        with torch.no_grad():
            hr, frame, _ = module(*samples.inputs(module))
        for name, t in zip(module.inputs, samples.inputs(module)):
            t.numpy().astype("<f4").tofile(os.path.join(out, f"{kind}_{name}.f32"))
        hr.numpy().astype("<f4").tofile(os.path.join(out, f"{kind}_hr.f32"))
        frame.numpy().tofile(os.path.join(out, f"{kind}_frame.u8"))


if __name__ == "__main__":
    main()
