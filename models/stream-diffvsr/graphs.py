"""Tracing the wrappers to ONNX files: sample inputs, dynamic axes, external data, fp16, verification."""
import hashlib
import logging
import os

import torch

import wrappers

log = logging.getLogger("export")


def dynamic_axes(names):
    """Symbolic names: h, w for LR-sized axes (latents), H, W for HR-sized, h2/w2 for 2h×2w, h1..h3 for residual levels."""
    levels = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3]
    axes = {}
    for name in names:
        if name in ("cur_lr", "prev_lr", "latents", "lr_image", "model_output") or name in wrappers.FEATURES[:3]:
            axes[name] = {2: "h", 3: "w"}
        elif name in ("prev_hr", "flow", "warped_prev_hr", "image", "feat_6"):
            axes[name] = {2: "H", 3: "W"}
        elif name in wrappers.FEATURES[3:6]:
            axes[name] = {2: "h2", 3: "w2"}
        elif name in wrappers.RESIDUALS:
            k = levels[wrappers.RESIDUALS.index(name)]
            axes[name] = {2: "h" if k == 0 else f"h{k}", 3: "w" if k == 0 else f"w{k}"}
    return axes


class Samples:
    """Realistic inputs of every graph at one LR size, made by running the upstream modules in order."""

    def __init__(self, modules, embeds, size, device, schedule=None):
        h, w = size
        g = torch.Generator().manual_seed(0)
        rand = lambda *shape: (torch.rand(*shape, generator=g) * 2 - 1).to(device)  # noqa: E731
        t = {
            "cur_lr": rand(1, 3, h, w), "prev_lr": rand(1, 3, h, w), "prev_hr": rand(1, 3, 4 * h, 4 * w),
            "flow": (torch.randn(1, 2, 4 * h, 4 * w, generator=g) * 3).to(device), "latents": torch.randn(1, 4, h, w, generator=g).to(device),
            "lr_image": rand(1, 3, h, w), "timestep": torch.tensor([999.0], device=device), "encoder_hidden_states": embeds.to(device),
            "controlnet_scale": torch.tensor([1.0], device=device),
            "lr": rand(1, 3, h, w), "noise": torch.randn(1, 4, h, w, generator=g).to(device),
        }
        if schedule:
            t["timesteps"] = torch.tensor([float(v) for v in schedule["timesteps"]], device=device)
            t["step_coefficients"] = step_coefficients(schedule).to(device)
        with torch.no_grad():
            warp = wrappers.WarpEncode(modules["vae"])(t["prev_hr"], t["flow"])
            t.update(zip(wrappers.WarpEncode.outputs, warp))
            residuals = wrappers.ControlNet(modules["controlnet"])(*(t[n] for n in wrappers.ControlNet.inputs))
            t.update(zip(wrappers.RESIDUALS, residuals))
        self.tensors = t

    def inputs(self, module):
        return tuple(self.tensors[n] for n in module.inputs)


def step_coefficients(schedule):
    """[S, 4] float32: √ᾱ_t, √(1−ᾱ_t), √ᾱ_prev, √(1−ᾱ_prev), computed in float32 as scheduler.ts does."""
    a = torch.tensor(schedule["alphas_cumprod_t"], dtype=torch.float32)
    p = torch.tensor(schedule["alphas_cumprod_prev"], dtype=torch.float32)
    return torch.stack([a.sqrt(), (1 - a).sqrt(), p.sqrt(), (1 - p).sqrt()], dim=1)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save(model, path, external):
    """Writes an ONNX ModelProto, big ones with all weights in one `<file>.data` beside it."""
    import onnx

    data = path + ".data"
    for p in (path, data):
        if os.path.exists(p):
            os.remove(p)  # onnx appends to an existing external-data file
    if external:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=os.path.basename(data), size_threshold=1024)
        return data
    onnx.save_model(model, path)
    return None


def declared_shapes(model):
    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    return {v.name: dims(v) for v in list(model.graph.input) + list(model.graph.output)}


def export_graph(module, samples, path, tmp, opset, dynamic, external):
    """torch.onnx.export into `tmp` (models over 2 GB are written tensor by tensor there), then re-saved at `path`."""
    import onnx

    traced = os.path.join(tmp, os.path.basename(path))
    args = samples.inputs(module)
    with torch.no_grad():
        torch.onnx.export(module, args, traced, input_names=module.inputs, output_names=module.outputs, opset_version=opset,
                          do_constant_folding=True, dynamic_axes=dynamic_axes(module.inputs + module.outputs) if dynamic else None)
    model = onnx.load(traced)
    data = save(model, path, external)
    for f in os.listdir(tmp):
        os.remove(os.path.join(tmp, f))
    return {"shapes": declared_shapes(model), "data": data}


def to_fp16(path, out_path, external):
    """float16 weights and activations with float32 graph I/O; normalisation, softmax and sampling kept in float32."""
    try:
        import onnx
        from onnxconverter_common import float16
    except ImportError as err:
        raise SystemExit(f"--fp16 needs onnxconverter-common (pip install -r requirements.txt): {err}")
    model = onnx.load(path)
    keep = list(float16.DEFAULT_OP_BLOCK_LIST) + ["InstanceNormalization", "LayerNormalization", "Softmax", "GridSample", "Resize"]
    half = float16.convert_float_to_float16(model, keep_io_types=True, disable_shape_infer=True, op_block_list=keep)
    return save(half, out_path, external)


def verify(module, samples, path):
    """Runs the graph in onnxruntime on the trace inputs and reports the largest difference from PyTorch."""
    try:
        import onnxruntime
    except ImportError:
        log.warning("--verify: onnxruntime is not installed; skipped %s", os.path.basename(path))
        return None
    args = samples.inputs(module)
    with torch.no_grad():
        expected = module(*args)
    expected = expected if isinstance(expected, tuple) else (expected,)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(None, {n: a.cpu().numpy() for n, a in zip(module.inputs, args)})
    # in float64: the per-frame graphs' uint8 output would wrap around in a uint8 subtraction
    worst = max(float((torch.from_numpy(g).double() - e.cpu().double()).abs().max()) for g, e in zip(got, expected))
    log.info("verify %s: max |onnxruntime − torch| = %.3g", os.path.basename(path), worst)
    return worst
