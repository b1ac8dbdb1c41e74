# stream-sr: set-up, build, models, samples, demo, tests and benchmarks.
# `make demo` and `make test` install whatever is missing on a fresh Debian 12 machine.

SHELL := /bin/bash
NODE  ?= node
CLI   := src/cli/stream-sr
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# FFmpeg 5.1 (beamcoder needs exactly 5.x), its dev headers, and a build toolchain for node-gyp.
APT_PACKAGES := ffmpeg libavcodec-dev libavformat-dev libavdevice-dev libavfilter-dev libavutil-dev \
                libpostproc-dev libswresample-dev libswscale-dev pkg-config build-essential python3
# Live tests and the live benchmark run real servers on 127.0.0.1: GStreamer's RTSP server (camera),
# rtsp-server-perl (RTSP publish), nginx with the RTMP module (RTMP, and HTTP for HLS); GStreamer's
# tools and plugins for the interop tests (y4menc/y4mdec, x264enc, matroska, AAC).
APT_PACKAGES += gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
                gstreamer1.0-plugins-ugly gstreamer1.0-libav gir1.2-gst-rtsp-server-1.0 python3-gi \
                rtsp-server-perl nginx libnginx-mod-rtmp
# The console and report tests drive a real browser (puppeteer-core, no browser download)
APT_PACKAGES += chromium
# The queue tests (stream-sr worker/submit/jobs on BullMQ) start their own Redis on a free port
APT_PACKAGES += redis-server

# onnxruntime-node's install script downloads CUDA/TensorRT providers from outside the npm
# registry; the CPU build ships in the package, so skip it (see `make gpu-providers`).
export ONNXRUNTIME_NODE_INSTALL ?= skip

# The launcher's malloc settings (see src/cli/stream-sr), so benchmarks and tests run node as users do.
export MALLOC_MMAP_THRESHOLD_ ?= $(shell sed -n 's/.*MALLOC_MMAP_THRESHOLD_:=\([0-9]*\).*/\1/p' src/cli/stream-sr)
export MALLOC_TRIM_THRESHOLD_ ?= $(shell sed -n 's/.*MALLOC_TRIM_THRESHOLD_:=\([0-9]*\).*/\1/p' src/cli/stream-sr)

SAMPLE := samples/sample-320x180.mp4

.PHONY: all deps apt-deps node-deps build models samples demo test bench bench-live bench-cluster bench-diffvsr bench-fixed-camera quality pipeline-schema gpu-providers clean check train-data train-model

all: build models

deps: apt-deps node-deps

apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# npm ci's postinstall applies patches/*.patch to node_modules and rebuilds a patched native
# package (beamcoder: see patches/README.md).
node_modules/.installed: package.json package-lock.json .npmrc patches/apply.sh $(wildcard patches/*.patch)
	npm ci --no-audit --no-fund
	@touch $@

node-deps: node_modules/.installed

dist/.built: node_modules/.installed tsconfig.json $(shell find src -name '*.ts')
	npx tsc -p tsconfig.json
	@chmod +x dist/src/cli/main.js
	@touch $@

build: deps dist/.built

# bicubic is generated; esrgan-slim (the default) and esrgan-medium are converted from their npm packages
BUNDLED_MODELS := models/bicubic/model.json models/esrgan-slim/model.json models/esrgan-medium/model.json

$(BUNDLED_MODELS) &: dist/.built
	$(CLI) models build

models: build $(BUNDLED_MODELS)

$(SAMPLE):
	@mkdir -p samples
	ffmpeg -v error -y -f lavfi -i "testsrc2=size=320x180:rate=25:duration=4" \
	  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=4" \
	  -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest $@.tmp.mp4 && mv $@.tmp.mp4 $@

samples: deps $(SAMPLE)

demo: models samples
	@mkdir -p out
	$(CLI) -i $(SAMPLE) -o out/sample-x4.mp4 -y
	@echo
	@echo "Upscaled x4: $$(pwd)/out/sample-x4.mp4"

test: models samples
	npx tap

bench: models samples
	@mkdir -p bench
	$(NODE) dist/src/bench/run-bench.js --out bench/bench.json
	$(NODE) dist/src/bench/models-bench.js --input $(SAMPLE) --out bench/models.json --ncnn-dir ../shared/data/models/realesrgan
	$(MAKE) --no-print-directory bench-diffvsr

# Stream-DiffVSR runtime alone: TypeScript-side ms per 720p frame and RSS, on interface graphs.
bench-diffvsr: build
	@mkdir -p bench
	$(NODE) --expose-gc dist/src/bench/diffvsr-bench.js --frames 30 --out bench/diffvsr.json

pipeline-schema: build
	$(NODE) dist/src/pipeline/write-schema.js

# Change-aware compute on a fixed camera (opencv-doc's vtest.avi, x4 from its bicubic LR): fps and
# PSNR-Y of full compute, change-aware compute and ffmpeg's bicubic, alternating in one run
VTEST ?= /usr/share/doc/opencv-doc/examples/data/vtest.avi

bench-fixed-camera: build
	@mkdir -p bench
	@test -f $(VTEST) || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq opencv-doc; }
	$(NODE) dist/src/bench/fixed-camera-bench.js --clip $(VTEST) --out bench/fixed-camera.json

# RTSP camera (320x180, 25 fps) through bicubic (drop) and causal-sr (fallback), LIVE_MINUTES each
LIVE_MINUTES ?= 10

bench-live: models
	@mkdir -p bench
	$(NODE) dist/src/bench/live-bench.js --minutes $(LIVE_MINUTES) --out bench/live-bench.json

# Wall time of a 60 s clip with 1, 2 and 4 queue workers (--threads 1 each) beside one process (README, Many machines)
bench-cluster: models
	@mkdir -p bench
	$(NODE) dist/src/bench/cluster-bench.js --out bench/cluster.json

# Quality table for the README: PSNR-Y / SSIM-Y / flicker and s/frame of each model on Vid4 x4
# (bench/quality.md, .json), and bench/quality.html: per-frame charts and full-size crops of each model.
# Models that are not installed are listed as missing.
QUALITY_MODELS ?= bicubic,causal-sr@fp32,causal-sr@int8,esrgan-slim,esrgan-medium,realesr-general-x4v3
quality: models
	@mkdir -p bench
	nice -n 10 $(NODE) dist/src/bench/quality.js --models $(QUALITY_MODELS) --out bench/quality

# Retrain models/causal-sr (hours of CPU; never run by CI): Debian photos, clips, x4 then x2, export.
# Resumable: re-running continues from models/train/runs/*/last.pt. TRAIN_NICE lowers its priority.
TRAIN_PY   := nice -n $(or $(TRAIN_NICE),15) /usr/bin/python3
TRAIN_RUNS := models/train/runs

train-data:
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-torch python3-torchvision python3-onnx libedje-bin
	$(TRAIN_PY) models/train/fetch_data.py
	$(TRAIN_PY) models/train/make_clips.py

# Round 1 and 2 (RGB): x4, then motion pretraining with the warp loss, then the previous output
# warped at HR; x2 from round 1's x4. Round 3 (luma, the shipped model): the RGB networks converted
# exactly to luma (luma_init.py), trained on Y with the compressed LR in the mix; round 3b fine-tunes
# the x2. Exported with int8 graphs (export.py --int8: calibrated on the training clips, the x2's
# head kept in float); both are auto's pick on CPUs with 8-bit dot products (faster there, within 0.05 dB).
train-model: train-data
	$(TRAIN_PY) models/train/train.py --config models/train/configs/x4.json --run $(TRAIN_RUNS)/x4
	$(TRAIN_PY) models/train/train.py --config models/train/configs/x4-motion-ft.json --run $(TRAIN_RUNS)/x4ft --init $(TRAIN_RUNS)/x4/best.pt
	$(TRAIN_PY) models/train/train.py --config models/train/configs/x4-hr-ft.json --run $(TRAIN_RUNS)/x4hrft --init $(TRAIN_RUNS)/x4ft/best.pt
	$(TRAIN_PY) models/train/train.py --config models/train/configs/x2.json --run $(TRAIN_RUNS)/x2 --init $(TRAIN_RUNS)/x4/best.pt
	$(TRAIN_PY) models/train/export.py --x4 $(TRAIN_RUNS)/x4hrft/best.pt --x2 $(TRAIN_RUNS)/x2/best.pt --out $(TRAIN_RUNS)/rgb --id causal-sr
	$(TRAIN_PY) models/train/luma_init.py --onnx $(TRAIN_RUNS)/rgb/causal-sr-x4.onnx --config models/train/configs/x4-luma.json --out $(TRAIN_RUNS)/luma-init-x4.pt
	$(TRAIN_PY) models/train/luma_init.py --onnx $(TRAIN_RUNS)/rgb/causal-sr-x2.onnx --config models/train/configs/x2-luma.json --out $(TRAIN_RUNS)/luma-init-x2.pt
	$(TRAIN_PY) models/train/train.py --config models/train/configs/x4-luma.json --run $(TRAIN_RUNS)/x4luma --init $(TRAIN_RUNS)/luma-init-x4.pt
	$(TRAIN_PY) models/train/train.py --config models/train/configs/x2-luma.json --run $(TRAIN_RUNS)/x2luma --init $(TRAIN_RUNS)/luma-init-x2.pt --init $(TRAIN_RUNS)/luma-init-x4.pt:motion.
	$(TRAIN_PY) models/train/train.py --config models/train/configs/x2-luma-ft.json --run $(TRAIN_RUNS)/x2lumaft --init $(TRAIN_RUNS)/x2luma/best.pt
	$(TRAIN_PY) models/train/export.py --x4 $(TRAIN_RUNS)/x4luma/best.pt --x2 $(TRAIN_RUNS)/x2lumaft/best.pt --out models/causal-sr --int8 --int8-auto-on 2 4 --int8-float-head 2 --warp-at hr-block

gpu-providers:
	ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node

check: build
	npx tsc -p tsconfig.json --noEmit

clean:
	rm -rf dist out bench .tap models/bicubic models/esrgan-slim models/esrgan-medium samples/*.mp4
