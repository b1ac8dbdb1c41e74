"""Writes placeholder packages that let diffusers 0.27.2 (and the authors' pipeline) import offline.

Building models from configs, saving/loading them as local .bin folders and running the pipeline
on CPU need none of huggingface_hub, safetensors, transformers or matplotlib; diffusers
and the upstream code only import them. Each shim defines the few names used at import time and
answers any other name with a placeholder (exception classes for *Error, classes for CamelCase,
an identity decorator / refusing function otherwise). A dist-info folder per package makes
diffusers' importlib.metadata availability checks pass.

Usage: /usr/bin/python3 make_shims.py OUT_DIR   (then put OUT_DIR on PYTHONPATH; never commit it)
"""
import os
import sys

FALLBACK = '''
import re as _re


class _Placeholder:
    def __init__(self, *args, **kwargs):
        pass

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        raise RuntimeError(f"{cls.__name__} is an offline placeholder (stream-sr parity shims)")


def _refuse(*args, **kwargs):
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    raise RuntimeError("offline placeholder function (stream-sr parity shims)")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    if name.endswith("Error") or name.endswith("Exception"):
        return type(name, (Exception,), {})
    if name.isupper():
        return False if name.startswith(("HF_HUB_DISABLE", "HF_HUB_OFFLINE")) else "/nonexistent/" + name.lower()
    if name[:1].isupper():
        return type(name, (_Placeholder,), {})
    if name.startswith("is_") and name.endswith("_available"):
        return lambda *a, **k: False
    return _refuse
'''

PACKAGES = {
    "huggingface_hub": ("0.20.3", ["utils", "constants", "file_download", "_commit_api", "hf_api", "utils._runtime"]),
    "safetensors": ("0.4.2", ["torch"]),
    "transformers": ("4.38.2", ["modeling_utils", "utils", "models", "models.clip", "tokenization_utils_base"]),
    "matplotlib": ("3.6.3", ["pyplot"]),
}

EXTRA = {
    "huggingface_hub.file_download": 'REGEX_COMMIT_HASH = _re.compile(r"^[0-9a-f]{40}$")\n',
    "huggingface_hub.constants": 'HF_HOME = "/nonexistent/hf-home"\nHF_HUB_CACHE = "/nonexistent/hf-cache"\nHF_HUB_OFFLINE = True\nHF_HUB_DISABLE_TELEMETRY = True\n',
    "safetensors.torch": 'def load_file(*args, **kwargs):\n    raise RuntimeError("safetensors is a placeholder here: save and load .bin checkpoints")\n',
}


def write_module(root, dotted, is_package):
    parts = dotted.split(".")
    path = os.path.join(root, *parts)
    if is_package:
        os.makedirs(path, exist_ok=True)
        target = os.path.join(path, "__init__.py")
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        target = path + ".py"
    with open(target, "w") as f:
        f.write(FALLBACK + EXTRA.get(dotted, ""))


def main(out):
    os.makedirs(out, exist_ok=True)
    for name, (version, submodules) in PACKAGES.items():
        packages = {name} | {f"{name}.{s.rsplit('.', 1)[0]}" for s in submodules if "." in s}
        write_module(out, name, True)
        for sub in submodules:
            dotted = f"{name}.{sub}"
            write_module(out, dotted, dotted in packages)
        dist = os.path.join(out, f"{name}-{version}.dist-info")
        os.makedirs(dist, exist_ok=True)
        with open(os.path.join(dist, "METADATA"), "w") as f:
            f.write(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    print(out)


if __name__ == "__main__":
    main(sys.argv[1])
