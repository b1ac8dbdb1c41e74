"""Tiny random-weight Stream-DiffVSR and the authors' pipeline run on it: the parity reference.

Builds the real architectures at tiny sizes with diffusers 0.27.2 and the authors' classes (spec
§3.1), saves them as a checkpoint in the published layout (unet/, controlnet/, vae/, scheduler/,
as .bin) plus RAFT-small weights and a prompt embedding, runs the unmodified upstream
StreamDiffVSRPipeline over 3 LR frames on CPU in float32, and records every intermediate: the noise,
flows, warped previous outputs, encoder features, per-step model outputs and latents, the decoder's
unclamped output and the uint8 frames.

Needs (outside this repository): PYTHONPATH with the shims of make_shims.py, diffusers 0.27.2's
src/ and a checkout of github.com/jamichss/Stream-DiffVSR (--upstream).

Usage: /usr/bin/python3 diffvsr_reference.py --upstream PATH --out DIR
"""
import argparse
import json
import os
import sys

import numpy as np
import torch


def tiny_models(upstream):
    from diffusers import ControlNetModel, DDIMScheduler, UNet2DConditionModel
    from temporal_autoencoder.autoencoder_tiny import TemporalAutoencoderTiny

    unet = UNet2DConditionModel(
        sample_size=32, in_channels=7, out_channels=4, block_out_channels=(32, 32, 64, 64), layers_per_block=2,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, only_cross_attention=(True, True, True, False),
        use_linear_projection=True, norm_num_groups=32, num_class_embeds=None, class_embed_type=None,
    )
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32, 64))
    # Freshly initialised ControlNets output zeros (zero convs); the trained one does not (spec §2.3 trap 4).
    zero_convs = list(controlnet.controlnet_down_blocks) + [controlnet.controlnet_mid_block, controlnet.controlnet_cond_embedding.conv_out]
    for conv in zero_convs:
        torch.nn.init.normal_(conv.weight, 0.0, 0.05)
        torch.nn.init.normal_(conv.bias, 0.0, 0.01)
    vae = TemporalAutoencoderTiny(
        encoder_block_out_channels=(16, 16, 16), decoder_block_out_channels=(16, 16, 16),
        num_encoder_blocks=(1, 3, 3), num_decoder_blocks=(3, 3, 1), latent_channels=4, upsampling_scaling_factor=2,
    )
    scheduler = DDIMScheduler(
        num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="scaled_linear", clip_sample=False,
        set_alpha_to_one=False, steps_offset=1, prediction_type="v_prediction", timestep_spacing="trailing",
    )
    return unet.eval(), controlnet.eval(), vae.eval(), scheduler


def lr_frames(n, h, w):
    """A sine pattern moving one pixel per frame plus a faint checkerboard, as uint8 RGB."""
    from PIL import Image

    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    frames = []
    for i in range(n):
        channels = [0.5 + 0.35 * np.sin(0.4 * (x + i) + 0.3 * y + c) + 0.08 * (((x + i) // 4 + y // 4) % 2 - 0.5) for c in range(3)]
        rgb = np.clip(np.round(np.stack(channels, axis=-1) * 255), 0, 255).astype(np.uint8)
        frames.append(Image.fromarray(rgb, "RGB"))
    return frames


class Recorder:
    def __init__(self, out):
        self.out = out
        self.index = {}

    def save(self, name, tensor):
        array = tensor.detach().cpu().float().contiguous().numpy() if torch.is_tensor(tensor) else np.asarray(tensor, dtype=np.float32)
        array.astype("<f4").tofile(os.path.join(self.out, name + ".f32"))
        self.index[name] = list(array.shape)


def run(args):
    sys.path.insert(0, args.upstream)
    torch.manual_seed(args.seed)
    from torchvision.models.optical_flow import raft_small
    import util.flow_utils as flow_utils
    from pipeline.stream_diffvsr_pipeline import StreamDiffVSRPipeline

    h, w = args.lr
    os.makedirs(args.out, exist_ok=True)
    rec = Recorder(args.out)
    unet, controlnet, vae, scheduler = tiny_models(args.upstream)
    raft = raft_small(weights=None, progress=False).eval()
    embeds = torch.randn(1, 77, 32) * 0.5
    checkpoint = os.path.join(args.out, "checkpoint")
    for name, module in (("unet", unet), ("controlnet", controlnet), ("vae", vae)):
        module.save_pretrained(os.path.join(checkpoint, name), safe_serialization=False)
    scheduler.save_pretrained(os.path.join(checkpoint, "scheduler"))
    torch.save(raft.state_dict(), os.path.join(args.out, "raft_small.pth"))
    rec.save("prompt_embeds", embeds)
    frames = lr_frames(args.frames, h, w)
    os.makedirs(os.path.join(args.out, "frames"), exist_ok=True)
    for i, frame in enumerate(frames):
        frame.save(os.path.join(args.out, "frames", f"{i:03d}.png"))
        np.asarray(frame, dtype=np.uint8).tofile(os.path.join(args.out, f"lr_{i}.u8"))
        rec.index[f"lr_{i}"] = [h, w, 3]

    pipe = StreamDiffVSRPipeline(vae=vae, text_encoder=None, tokenizer=None, unet=unet, controlnet=controlnet, scheduler=scheduler,
                                 safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    counters = {"noise": 0, "flow": 0, "warp": 0, "feat": 0, "decode": 0, "unet": 0, "step": 0}

    def counted(kind):
        n = counters[kind]
        counters[kind] += 1
        return n

    original_prepare, original_flow, original_warp = pipe.prepare_latents, flow_utils.get_flow, flow_utils.flow_warp
    original_encode, original_decode = vae.encode, vae.decode

    def prepare_latents(*a, **k):
        z = original_prepare(*a, **k)
        rec.save(f"noise_{counted('noise')}", z)
        return z

    def get_flow(*a, **k):
        flow = original_flow(*a, **k)  # (1, H, W, 2)
        rec.save(f"flow_{counted('flow') + 1}", flow.permute(0, 3, 1, 2))
        return flow

    def flow_warp(*a, **k):
        warped = original_warp(*a, **k)
        rec.save(f"warped_{counted('warp') + 1}", warped)
        return warped

    def encode(*a, **k):
        feats = original_encode(*a, **k)
        n = counted("feat") + 1
        for j, f in enumerate(feats[::-1]):
            rec.save(f"feat_{j}_{n}", f)
        return feats

    def decode(*a, **k):
        out = original_decode(*a, **k)
        rec.save(f"hr_{counted('decode')}", out[0])
        return out

    def unet_hook(module, inputs, output):
        n = counted("unet")
        rec.save(f"v_{n // 4}_{n % 4}", output[0])

    def callback(i, t, latents):
        n = counted("step")
        rec.save(f"z_{n // 4}_{n % 4}", latents[n // 4])

    pipe.prepare_latents = prepare_latents
    flow_utils.get_flow, flow_utils.flow_warp = get_flow, flow_warp
    vae.encode, vae.decode = encode, decode
    unet.register_forward_hook(unet_hook)
    with torch.no_grad():
        output = pipe(prompt=None, images=frames, num_inference_steps=4, guidance_scale=0, prompt_embeds=embeds, of_model=raft,
                      output_type="np", generator=torch.Generator().manual_seed(42), callback=callback, callback_steps=1)
    for i, image in enumerate(output.images):
        levels = (np.asarray(image, dtype=np.float32) * 255).round().astype(np.uint8)  # numpy_to_pil's conversion
        levels.tofile(os.path.join(args.out, f"u8_{i}.u8"))
        rec.index[f"u8_{i}"] = list(levels.shape)
    with open(os.path.join(args.out, "fixtures.json"), "w") as f:
        json.dump({"lr": [h, w], "frames": args.frames, "timesteps": [int(t) for t in pipe.scheduler.timesteps], "tensors": rec.index}, f, indent=1)
    print(os.path.join(args.out, "fixtures.json"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", required=True, help="checkout of github.com/jamichss/Stream-DiffVSR")
    parser.add_argument("--out", required=True)
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--lr", type=lambda s: tuple(int(v) for v in s.split("x")), default=(32, 40), help="LR size HxW (>= 32)")
    parser.add_argument("--seed", type=int, default=0)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
