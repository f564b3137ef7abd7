# The two entry points: `make test` (everything CI runs) and `make demo` (the main job on the embedded store).
# Both install what they need, so they work on a fresh machine (Node 20, Debian 12).
SHELL := /bin/bash
export TURBO_TELEMETRY_DISABLED := 1
export DO_NOT_TRACK := 1

# Debian packages the tests use (installed when missing and running as root). The Kerberos tests start a real
# MIT KDC (krb5-kdc, krb5-admin-server for kadmin.local, krb5-user for kinit/klist); the `kerberos` npm addon
# compiles against libkrb5-dev's GSSAPI headers with g++ during `pnpm install`. The size report is opened in a real
# browser (chromium) and its screenshot read back with OCR (tesseract).
DEBIAN_PACKAGES := python3-venv python3-pip python3-setuptools python3-wheel python3-wheel-whl python3-dev python3-boto3 python3-distributed unzip openjdk-17-jre-headless python3-yaml python3-pytest python3-pyflakes \
	krb5-kdc krb5-admin-server krb5-user libkrb5-dev g++ binutils \
	chromium fonts-dejavu-core tesseract-ocr tesseract-ocr-eng

.PHONY: setup test demo build wheel lint typecheck bench clean

# The Debian packages come first: `pnpm install` builds native addons (kerberos) against them.
setup:
	@scripts/ensure-debian-packages.sh $(DEBIAN_PACKAGES)
	@command -v pnpm >/dev/null 2>&1 || npm install --global pnpm@10
	pnpm install --frozen-lockfile

build: setup
	pnpm turbo run build

# Tests run one package at a time: several suites start servers, venvs and multi-GiB streams, and on a 2-core
# machine running them together only trades wall time for timeouts.
test: setup
	pnpm turbo run build typecheck lint
	pnpm turbo run test --concurrency=1
	pnpm biome check biome.json package.json turbo.json tsconfig.base.json tsup.shared.ts .changeset/config.json

# The main job: a venv from examples/demo-project, uploaded twice (the second time a cache hit), then run.
demo: setup
	pnpm turbo run build --filter=@cluster-pack/cli...
	examples/demo-project/demo.sh

# The Python package with the standalone executable inside, to dist/python/: `pip install dist/python/*.whl`.
wheel: setup
	pnpm turbo run build --filter=@cluster-pack/standalone
	python/build-wheel.sh dist/python apps/standalone/dist/cluster-pack

lint: setup
	pnpm lint

typecheck: setup
	pnpm turbo run typecheck

bench: setup
	pnpm turbo run bench

clean:
	rm -rf dist node_modules packages/*/dist packages/*/node_modules apps/*/dist apps/*/node_modules \
		examples/*/dist examples/*/node_modules .turbo packages/*/.turbo apps/*/.turbo examples/*/.turbo
