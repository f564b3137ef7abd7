# The two entry points: `make test` (everything CI runs) and `make demo` (the main job on the embedded store).
# Both install what they need, so they work on a fresh machine (Node 20, Debian 12).
SHELL := /bin/bash
export TURBO_TELEMETRY_DISABLED := 1
export DO_NOT_TRACK := 1

# Debian packages the tests use (installed when missing and running as root).
DEBIAN_PACKAGES := python3-venv python3-pip python3-setuptools python3-wheel python3-wheel-whl python3-dev

.PHONY: setup test demo build lint typecheck bench clean

setup:
	@command -v pnpm >/dev/null 2>&1 || npm install --global pnpm@10
	pnpm install --frozen-lockfile
	@scripts/ensure-debian-packages.sh $(DEBIAN_PACKAGES)

build: setup
	pnpm turbo run build

test: setup
	pnpm turbo run build typecheck lint test
	pnpm biome check biome.json package.json turbo.json tsconfig.base.json tsup.shared.ts .changeset

demo: setup
	pnpm turbo run build --filter=storage-round-trip...
	node examples/storage-round-trip/demo.mjs $(STORE)

lint: setup
	pnpm lint

typecheck: setup
	pnpm turbo run typecheck

bench: setup
	pnpm turbo run bench

clean:
	rm -rf node_modules packages/*/dist packages/*/node_modules apps/*/dist apps/*/node_modules \
		examples/*/dist examples/*/node_modules .turbo packages/*/.turbo apps/*/.turbo examples/*/.turbo
