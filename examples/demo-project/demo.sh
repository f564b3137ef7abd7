#!/usr/bin/env bash
# `make demo`: ship a venv with cluster-pack, offline, into the embedded local store.
#   1. a venv with demo-utils (a wheel install) and demo-app (pip install -e, code under development)
#   2. cluster-pack upload            → packs the venv into env.pex, uploads it with its metadata and demo_app.zip
#   3. cluster-pack upload again      → cache hit: nothing packed or uploaded
#   4. cluster-pack config spark      → the Spark properties that ship it (YARN, cluster mode)
#   5. python env.pex                 → the archive imports both packages, as a Spark executor would
# DEMO_DIR (default /tmp/cluster-pack-demo) holds the venv and the store; it is recreated on every run.
set -euo pipefail

project="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$project/../.." && pwd)"
cli=(node "$repo/apps/cli/dist/cli.js")
python="${PYTHON:-python3}"
demo="${DEMO_DIR:-/tmp/cluster-pack-demo}"
venv="$demo/venv"
wheels=/usr/share/python-wheels

export CLUSTER_PACK_STORE="$demo/store"
export C_PACK_USER="${C_PACK_USER:-demo}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
unset VIRTUAL_ENV CONDA_PREFIX HADOOP_CONF_DIR PEX C_PACK_ENV_FALLBACK_PATH

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }

step "creating a venv with demo-utils (wheel) and demo-app (editable) in $venv, offline"
# Only a directory this script made (it leaves a marker) is ever removed.
if [[ -e "$demo" && ! -e "$demo/.cluster-pack-demo" ]]; then
  echo "error: $demo exists and was not made by this demo; set DEMO_DIR to a new directory" >&2
  exit 1
fi
rm -rf "$demo"
mkdir -p "$demo"
touch "$demo/.cluster-pack-demo"
"$python" -m venv "$venv"
# setuptools builds PEP 660 editables with the `wheel` package, which a fresh venv lacks: Debian's copy.
"$venv/bin/pip" install --quiet --no-index --find-links "$wheels" wheel setuptools
"$venv/bin/pip" install --quiet --no-index --no-build-isolation "$project/libs/demo-utils"
"$venv/bin/pip" install --quiet --no-index --no-build-isolation -e "$project"

# Run from the project, so that its [tool.cluster-pack] table applies.
cd "$project"

step "cluster-pack info --python $venv/bin/python"
"${cli[@]}" info --python "$venv/bin/python" --top 5

step "cluster-pack upload --python $venv/bin/python   (first run: packs and uploads)"
"${cli[@]}" upload --python "$venv/bin/python"

step "cluster-pack upload --python $venv/bin/python   (again: the stored archive is current)"
start=$(date +%s%N)
"${cli[@]}" upload --python "$venv/bin/python"
echo "($(( ($(date +%s%N) - start) / 1000000 )) ms)"

step "cluster-pack upload --json   (what scripts read)"
"${cli[@]}" upload --python "$venv/bin/python" --json > "$demo/upload.json"
cat "$demo/upload.json"
archive=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).packagePath)' "$demo/upload.json")
zips=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).editable.map((e) => e.uri).join(":"))' "$demo/upload.json")

step "cluster-pack ls $(dirname "$archive")"
"${cli[@]}" ls "$(dirname "$archive")"

step "cluster-pack config spark --master yarn --deploy-mode cluster --format conf   (the launch configuration)"
"${cli[@]}" config spark --python "$venv/bin/python" --master yarn --deploy-mode cluster --format conf
step "running the uploaded archive, the editable zip on PYTHONPATH (as a Spark executor would)"
out=$(cd "$demo" && PEX_ROOT="$demo/pex-root" PYTHONPATH="$zips" "$python" "$archive" -c \
  'import demo_app, demo_utils; print(demo_app.greeting("cluster"))')
echo "$out"
if [[ "$out" != "HELLO CLUSTER FROM DEMO_APP!" ]]; then
  echo "demo failed: unexpected output from the archive" >&2
  exit 1
fi

step "done. What next:"
cat <<NEXT
  - Your own venv:       node apps/cli/dist/cli.js upload   (inside an activated venv; --help for the options)
  - S3 / MinIO:          AWS_ENDPOINT_URL_S3=http://minio:9000 node apps/cli/dist/cli.js upload --package-path s3://bucket/envs/env.pex
  - HDFS (YARN):         with HADOOP_CONF_DIR set, the default store is hdfs:///user/\$USER/envs
  - PySpark on YARN:     node apps/cli/dist/cli.js config spark --master yarn   (spark-submit flags; --format conf|python|json)
  - YARN, TF, Dask:      node apps/cli/dist/cli.js config yarn|tf|dask --help
  - The reference:       apps/cli/README.md
NEXT
