#!/usr/bin/env python3
"""Export a Stream-DiffVSR checkpoint to the ONNX graph set stream-sr runs (format stream-diffvsr-onnx/1).

Reads a checkpoint in the published layout (unet/, controlnet/, vae/, scheduler/, text_encoder/,
tokenizer/; a local folder, or the Hugging Face id when online) and a local checkout of the authors'
repository for the TemporalAutoencoderTiny class (--upstream; its code is imported, never copied),
and writes into --out: flow.onnx (per resolution profile), warp_encode.onnx, controlnet.onnx +
unet.onnx (or the fused unet_step.onnx), tae_decode.onnx, tae_decode_temporal.onnx, the empty-prompt
embedding and manifest.json with the scheduler's timesteps and ᾱ computed from the checkpoint's
own scheduler config, and (unless --no-frame-graph) the per-frame graphs frame_first/frame_history,
one whole frame each (flow, warp, the --steps denoising steps unrolled, DDIM arithmetic, decoder,
8-bit quantisation). Opset 17; big graphs with external data (.onnx.data beside the .onnx).

  python3 export.py --checkpoint Jamichsu/Stream-DiffVSR --upstream ../Stream-DiffVSR --out export/ \\
      --profile 320x180 [--profile 480x270] [--dynamic] [--fused-unet-step] [--fp16] [--verify]

See the README section "Stream-DiffVSR: export and run" and the spec (stream-diffvsr.md §2).
"""
import argparse
import json
import logging
import os
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wrappers  # noqa: E402

EXPORTER_VERSION = "stream-sr export.py 1"
TRAINED_TIMESTEPS = [999, 749, 499, 249]
BIG_GRAPHS = {"unet", "controlnet", "unet_step", "frame_first", "frame_history"}
log = logging.getLogger("export")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="checkpoint folder in the published layout, or a Hugging Face model id")
    p.add_argument("--revision", help="hub revision (commit, branch or tag) when --checkpoint is an id")
    p.add_argument("--upstream", required=True, help="local checkout of github.com/jamichss/Stream-DiffVSR (for TemporalAutoencoderTiny)")
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--profile", action="append", default=[], metavar="WxH",
                   help="LR input size to export static graphs for (repeatable; default 320x180 → 1280x720 output)")
    p.add_argument("--dynamic", action="store_true", help="symbolic h, w for every graph but flow (traced at a size that is not a multiple of 8)")
    p.add_argument("--fused-unet-step", action="store_true", help="also write unet_step.onnx (ControlNet+UNet fused; what GPU runs use)")
    p.add_argument("--no-pair", action="store_true", help="with --fused-unet-step: skip the separate controlnet/unet graphs")
    p.add_argument("--fp16", action="store_true", help="also write float16 versions (float32 I/O) of the denoiser and decoder graphs, for GPUs")
    p.add_argument("--steps", type=int, default=4, help="denoising steps the manifest's timesteps are computed for (distilled: 4)")
    p.add_argument("--flow-model", choices=["raft_large", "raft_small"], default="raft_large")
    p.add_argument("--flow-weights", default="default", help="'default' (torchvision C_T_SKHT_V2, downloaded once) or a state_dict .pth")
    p.add_argument("--prompt-embeds", help="raw float32 (1,77,D) embedding to use instead of running the checkpoint's text encoder")
    p.add_argument("--device", default="cpu", help="torch device used for tracing (cuda is faster for the real model)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--verify", action="store_true", help="run every graph in onnxruntime and compare with PyTorch")
    p.add_argument("--no-frame-graph", action="store_true",
                   help="skip the per-frame graphs (frame_first/frame_history-<S>steps.onnx: a whole frame in one graph, static per profile)")
    return p.parse_args(argv)


def parse_size(text):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--profile {text}: expected WxH of the LR input, e.g. 320x180")
    if w % 4 or h % 4 or min(w, h) < 32:
        raise SystemExit(f"--profile {text}: LR sides must be multiples of 4 and at least 32 (RAFT needs HR sides of 128)")
    return h, w


def load_checkpoint(args):
    sys.path.insert(0, os.path.abspath(args.upstream))
    try:
        from temporal_autoencoder.autoencoder_tiny import TemporalAutoencoderTiny
    except ImportError as err:
        raise SystemExit(f"--upstream {args.upstream}: cannot import temporal_autoencoder.autoencoder_tiny ({err})")
    from diffusers import ControlNetModel, DDIMScheduler, UNet2DConditionModel

    kw = {"revision": args.revision} if args.revision else {}
    unet = UNet2DConditionModel.from_pretrained(args.checkpoint, subfolder="unet", **kw).eval()
    controlnet = ControlNetModel.from_pretrained(args.checkpoint, subfolder="controlnet", **kw).eval()
    vae = TemporalAutoencoderTiny.from_pretrained(args.checkpoint, subfolder="vae", **kw).eval()
    scheduler = DDIMScheduler.from_pretrained(args.checkpoint, subfolder="scheduler", **kw)
    check_configs(unet, controlnet, vae)
    return unet, controlnet, vae, scheduler


def check_configs(unet, controlnet, vae):
    """The expectations of spec §1 that, if wrong, would give silently wrong graphs."""
    u, c, v = unet.config, controlnet.config, vae.config
    problems = []
    if u.num_class_embeds is not None or u.class_embed_type is not None:
        problems.append("the UNet has a class embedding (Stream-DiffVSR calls it without class_labels)")
    if u.in_channels != v.latent_channels + 3 or u.out_channels != v.latent_channels:
        problems.append(f"UNet in/out channels {u.in_channels}/{u.out_channels}, expected {v.latent_channels + 3}/{v.latent_channels}")
    if len(c.conditioning_embedding_out_channels) != 3:
        problems.append(f"ControlNet conditioning embedder {c.conditioning_embedding_out_channels}: 3 stages (×4) expected")
    if c.in_channels != u.in_channels or getattr(c, "global_pool_conditions", False):
        problems.append("ControlNet input channels differ from the UNet's, or it pools its conditions")
    if 2 ** (len(v.block_out_channels) - 1) != 4:
        problems.append(f"TAE scale factor {2 ** (len(v.block_out_channels) - 1)}, expected 4")
    if problems:
        raise SystemExit("checkpoint does not match the Stream-DiffVSR architecture: " + "; ".join(problems))


def load_flow(args):
    from torchvision.models.optical_flow import Raft_Large_Weights, Raft_Small_Weights, raft_large, raft_small

    build, default = (raft_large, Raft_Large_Weights.DEFAULT) if args.flow_model == "raft_large" else (raft_small, Raft_Small_Weights.DEFAULT)
    if args.flow_weights == "default":
        return build(weights=default, progress=False).eval()
    model = build(weights=None, progress=False)
    model.load_state_dict(torch.load(args.flow_weights, map_location="cpu"))
    return model.eval()


def prompt_embedding(args):
    """text_encoder(tokenizer('', padding='max_length', truncation=True))[0]: the constant conditioning (spec §1.1)."""
    if args.prompt_embeds:
        import numpy as np

        data = np.fromfile(args.prompt_embeds, dtype="<f4")
        if data.size % 77:
            raise SystemExit(f"--prompt-embeds {args.prompt_embeds}: {data.size} floats is not (1, 77, D)")
        return torch.from_numpy(data.reshape(1, 77, -1).copy())
    from transformers import CLIPTextModel, CLIPTokenizer

    kw = {"revision": args.revision} if args.revision else {}
    tokenizer = CLIPTokenizer.from_pretrained(args.checkpoint, subfolder="tokenizer", **kw)
    encoder = CLIPTextModel.from_pretrained(args.checkpoint, subfolder="text_encoder", **kw).eval()
    ids = tokenizer("", padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        return encoder(ids)[0].float()


def scheduler_block(scheduler, steps):
    """Timesteps and ᾱ exactly as diffusers' DDIMScheduler computes them from the checkpoint's config (float32)."""
    scheduler.set_timesteps(steps)
    timesteps = [int(t) for t in scheduler.timesteps]
    ac = scheduler.alphas_cumprod
    final = float(scheduler.final_alpha_cumprod)
    stride = scheduler.config.num_train_timesteps // steps
    prev = [float(ac[t - stride]) if t - stride >= 0 else final for t in timesteps]
    cfg = scheduler.config
    if cfg.prediction_type != "v_prediction":
        raise SystemExit(f"scheduler prediction_type {cfg.prediction_type}: Stream-DiffVSR is v-prediction")
    match = timesteps == TRAINED_TIMESTEPS
    if steps == 4 and not match:
        log.warning("the checkpoint's scheduler config gives timesteps %s (timestep_spacing %r), not the %s the model was "
                    "trained with ('trailing'); the manifest keeps the checkpoint's, as the reference inference does",
                    timesteps, cfg.timestep_spacing, TRAINED_TIMESTEPS)
    return {
        "type": "ddim", "prediction_type": cfg.prediction_type, "eta": 0.0, "init_noise_sigma": float(scheduler.init_noise_sigma),
        "num_train_timesteps": cfg.num_train_timesteps, "beta_start": cfg.beta_start, "beta_end": cfg.beta_end,
        "beta_schedule": cfg.beta_schedule, "timestep_spacing": cfg.timestep_spacing, "steps_offset": cfg.steps_offset,
        "set_alpha_to_one": cfg.set_alpha_to_one, "clip_sample": cfg.clip_sample, "num_inference_steps": steps,
        "timesteps": timesteps, "alphas_cumprod_t": [float(ac[t]) for t in timesteps], "alphas_cumprod_prev": prev,
        "final_alpha_cumprod": final, "timesteps_match_training": match, "alphas_cumprod": [float(a) for a in ac],
    }


def graph_modules(args, unet, controlnet, vae, raft):
    modules = {"flow": wrappers.Flow(raft), "warp_encode": wrappers.WarpEncode(vae)}
    if not (args.no_pair and args.fused_unet_step):
        modules["controlnet"] = wrappers.ControlNet(controlnet)
        modules["unet"] = wrappers.UNet(unet)
    if args.fused_unet_step:
        modules["unet_step"] = wrappers.UNetStep(unet, controlnet)
    modules["tae_decode"] = wrappers.Decode(vae)
    modules["tae_decode_temporal"] = wrappers.DecodeTemporal(vae)
    return modules


def trace_size(profiles):
    """diffusers bakes the UNet's upsampling mode at trace time; a latent side ≡ 4 (mod 8) keeps it shape-generic (spec §2.3)."""
    h, w = profiles[0]
    return (h if h % 8 else h + 4, w if w % 8 else w + 4)


def profile_name(size):
    h, w = size
    return f"{4 * w}x{4 * h}"


def export_all(args, profiles, modules, embeds, upstream_modules):
    import graphs

    device = torch.device(args.device)
    single = len(profiles) == 1
    entries, samples = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, module in modules.items():
            dynamic = args.dynamic and name != "flow"
            sizes = [trace_size(profiles)] if dynamic else profiles
            entry = {"inputs": module.inputs, "outputs": module.outputs, "dtype": "float32", "dynamic": dynamic, "shapes": {}, "sha256": {}}
            for size in sizes:
                folder = "" if dynamic or single else profile_name(size)
                os.makedirs(os.path.join(args.out, folder), exist_ok=True)
                rel = os.path.join(folder, f"{name}.onnx")
                path = os.path.join(args.out, rel)
                if size not in samples:
                    samples[size] = graphs.Samples(upstream_modules, embeds, size, device)
                log.info("exporting %s at LR %dx%d%s", rel, size[1], size[0], " (dynamic h, w)" if dynamic else "")
                result = graphs.export_graph(module, samples[size], path, tmp, args.opset, dynamic, name in BIG_GRAPHS)
                files = {"file": rel, **({"external_data": rel + ".data"} if result["data"] else {})}
                if args.fp16 and name not in ("flow", "warp_encode"):
                    half = rel.replace(".onnx", ".fp16.onnx")
                    data = graphs.to_fp16(path, os.path.join(args.out, half), name in BIG_GRAPHS)
                    files["fp16"] = {"file": half, **({"external_data": half + ".data"} if data else {})}
                key = "dynamic" if dynamic else profile_name(size)
                entry["shapes"][key] = result["shapes"]
                for f in all_files(files):
                    entry["sha256"][f] = graphs.sha256(os.path.join(args.out, f))
                if not dynamic:
                    entry.setdefault("profile_files", {})[profile_name(size)] = files
                if "file" not in entry:
                    entry.update(files)
                if args.verify:
                    entry.setdefault("verified_max_abs_diff", {})[key] = graphs.verify(module, samples[size], path)
            entries[name] = entry
    return entries


def export_frame_graphs(args, profiles, raft, unet, controlnet, vae, embeds, schedule):
    """frame_first and frame_history for the manifest's step count, static at every profile (RAFT is static).
    Manifest: frame_graphs = [{steps, denoiser, first: entry, history: entry}], entries as in `graphs`."""
    import graphs

    device = torch.device(args.device)
    steps = len(schedule["timesteps"])
    single = len(profiles) == 1
    kinds = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("first", "history"):
            module = wrappers.FrameGraph(kind, steps, raft, unet, controlnet, vae, embeds).to(device)
            name = f"frame_{kind}"
            entry = {"inputs": module.inputs, "outputs": module.outputs, "dtype": "float32", "dynamic": False, "shapes": {}, "sha256": {}}
            for size in profiles:
                folder = "" if single else profile_name(size)
                os.makedirs(os.path.join(args.out, folder), exist_ok=True)
                rel = os.path.join(folder, f"{name}-{steps}steps.onnx")
                path = os.path.join(args.out, rel)
                samples = graphs.Samples({"unet": unet, "controlnet": controlnet, "vae": vae}, embeds, size, device, schedule)
                log.info("exporting %s at LR %dx%d (%d steps unrolled)", rel, size[1], size[0], steps)
                result = graphs.export_graph(module, samples, path, tmp, args.opset, False, True)
                files = {"file": rel, **({"external_data": rel + ".data"} if result["data"] else {})}
                if args.fp16:
                    half = rel.replace(".onnx", ".fp16.onnx")
                    data = graphs.to_fp16(path, os.path.join(args.out, half), True)
                    files["fp16"] = {"file": half, **({"external_data": half + ".data"} if data else {})}
                entry["shapes"][profile_name(size)] = result["shapes"]
                for f in all_files(files):
                    entry["sha256"][f] = graphs.sha256(os.path.join(args.out, f))
                entry.setdefault("profile_files", {})[profile_name(size)] = files
                if "file" not in entry:
                    entry.update(files)
                if args.verify:
                    entry.setdefault("verified_max_abs_diff", {})[profile_name(size)] = graphs.verify(module, samples, path)
            kinds[kind] = entry
    return [{"steps": steps, "denoiser": "controlnet+unet", **kinds}]


def all_files(files):
    """Every file a graph entry names: the graph, its external data, and the same for its fp16 variant."""
    names = [files["file"]] + ([files["external_data"]] if "external_data" in files else [])
    return names + (all_files(files["fp16"]) if "fp16" in files else [])


def source_info(args):
    revision = args.revision or "local"
    if not os.path.isdir(args.checkpoint):
        try:
            from huggingface_hub import HfApi

            revision = HfApi().model_info(args.checkpoint, revision=args.revision).sha
        except Exception as err:  # offline, or an old huggingface_hub: the manifest says so
            revision = f"unknown ({type(err).__name__})"
    return {"model_id": args.checkpoint, "revision": revision, "exporter_version": EXPORTER_VERSION}


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="export: %(message)s")
    profiles = [parse_size(p) for p in (args.profile or ["320x180"])]
    os.makedirs(args.out, exist_ok=True)
    unet, controlnet, vae, scheduler = load_checkpoint(args)
    raft = load_flow(args)
    device = torch.device(args.device)
    for m in (unet, controlnet, vae, raft):
        m.to(device)
    embeds = prompt_embedding(args)
    modules = graph_modules(args, unet, controlnet, vae, raft)
    graphs_entries = export_all(args, profiles, modules, embeds, {"unet": unet, "controlnet": controlnet, "vae": vae})
    schedule = scheduler_block(scheduler, args.steps)
    frame_graphs = [] if args.no_frame_graph else export_frame_graphs(args, profiles, raft, unet, controlnet, vae, embeds, schedule)
    embeds_file = os.path.join(args.out, "empty_prompt_embeds.f32")
    embeds.detach().cpu().float().contiguous().numpy().astype("<f4").tofile(embeds_file)
    import graphs

    manifest = {
        "format": "stream-diffvsr-onnx/1",
        "source": source_info(args),
        "scale": 4, "latent_channels": vae.config.latent_channels, "vae_scale_factor": 4,
        "profiles": [{"name": profile_name(s), "lr": list(s), "hr": [4 * s[0], 4 * s[1]]} for s in profiles],
        "input_constraints": {"lr_multiple": 4, "min_lr_side": 32},
        "scheduler": schedule,
        "vae": {"scaling_factor": float(vae.config.scaling_factor), "shift_factor": float(getattr(vae.config, "shift_factor", 0.0) or 0.0)},
        "controlnet": {"conditioning_scale": 1.0, "num_down_residuals": 12},
        "flow": {"model": args.flow_model, "weights": "C_T_SKHT_V2" if args.flow_weights == "default" else os.path.basename(args.flow_weights), "num_flow_updates": 12},
        "text_embedding": {"file": "empty_prompt_embeds.f32", "shape": list(embeds.shape), "dtype": "float32", "sha256": graphs.sha256(embeds_file)},
        "noise": {"shape": ["1", str(vae.config.latent_channels), "h", "w"], "per_frame": True},
        "graphs": graphs_entries,
        **({"frame_graphs": frame_graphs} if frame_graphs else {}),
        "configs": {"unet": dict(unet.config), "controlnet": dict(controlnet.config), "vae": dict(vae.config), "scheduler": dict(scheduler.config)},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, default=lambda o: list(o) if isinstance(o, tuple) else str(o))
    log.info("wrote %s", os.path.join(args.out, "manifest.json"))


if __name__ == "__main__":
    main()
