# stream-sr: set-up, build, models, samples, demo, tests and benchmarks.
# `make demo` and `make test` install whatever is missing on a fresh Debian 12 machine.

SHELL := /bin/bash
NODE  ?= node
CLI   := $(NODE) dist/src/cli/main.js
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# FFmpeg 5.1 (beamcoder needs exactly 5.x), its dev headers, and a build toolchain for node-gyp.
APT_PACKAGES := ffmpeg libavcodec-dev libavformat-dev libavdevice-dev libavfilter-dev libavutil-dev \
                libpostproc-dev libswresample-dev libswscale-dev pkg-config build-essential python3

# onnxruntime-node's install script downloads CUDA/TensorRT providers from outside the npm
# registry; the CPU build ships in the package, so skip it (see `make gpu-providers`).
export ONNXRUNTIME_NODE_INSTALL ?= skip

SAMPLE := samples/sample-320x180.mp4

.PHONY: all deps apt-deps node-deps build models samples demo test bench bench-diffvsr quality gpu-providers clean check

all: build models

deps: apt-deps node-deps

apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

node-deps: node_modules/.installed

dist/.built: node_modules/.installed tsconfig.json $(shell find src -name '*.ts')
	npx tsc -p tsconfig.json
	@chmod +x dist/src/cli/main.js
	@touch $@

build: deps dist/.built

models/bicubic/model.json: dist/.built
	$(CLI) models build

models: build models/bicubic/model.json

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
	$(NODE) --expose-gc dist/src/bench/diffvsr-bench.js --frames 30 --out bench/diffvsr.json

# Stream-DiffVSR runtime alone: TypeScript-side ms per 720p frame and RSS, on interface graphs.
bench-diffvsr: build
	@mkdir -p bench
	$(NODE) --expose-gc dist/src/bench/diffvsr-bench.js --frames 30 --out bench/diffvsr.json

gpu-providers:
	ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node

check: build
	npx tsc -p tsconfig.json --noEmit

clean:
	rm -rf dist out bench .tap models/bicubic samples/*.mp4
