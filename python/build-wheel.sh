#!/usr/bin/env bash
# Builds the cluster-pack wheel with EXECUTABLE bundled as cluster_pack/bin/cluster-pack.
# Usage: build-wheel.sh DEST_DIR EXECUTABLE
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 DEST_DIR EXECUTABLE" >&2
  exit 2
fi
dest_dir=$1
executable=$2
if [ ! -f "$executable" ]; then
  echo "error: $executable: no such file" >&2
  exit 1
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
version=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$repo/apps/cli/package.json")
# Zip timestamps come from SOURCE_DATE_EPOCH: the same commit gives byte-identical wheels.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 315532800)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/cluster-pack
mkdir -p "$tree"
cp -r "$here/cluster_pack" "$here/pyproject.toml" "$here/setup.cfg" "$here/README.md" "$tree/"
find "$tree" -name __pycache__ -prune -exec rm -rf {} +
sed -i "s/^version = \"0.0.0\"$/version = \"$version\"/" "$tree/pyproject.toml"
grep -q "^version = \"$version\"$" "$tree/pyproject.toml" || { echo "error: pyproject.toml: no version line to set" >&2; exit 1; }
mkdir -p "$tree/cluster_pack/bin"
install -m 0755 "$executable" "$tree/cluster_pack/bin/cluster-pack"
# Same modes whatever the umask of the checkout: they are recorded in the wheel.
find "$tree" -type d -exec chmod 0755 {} +
find "$tree" -type f ! -path "$tree/cluster_pack/bin/cluster-pack" -exec chmod 0644 {} +

mkdir -p "$dest_dir"
/usr/bin/python3 -m pip wheel --quiet --no-deps --no-build-isolation --no-index -w "$dest_dir" "$tree"
ls "$dest_dir"/cluster_pack-"$version"-py3-none-manylinux_2_28_x86_64.whl
