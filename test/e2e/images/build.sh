#!/usr/bin/env bash
# build.sh [--cluster-sh PATH] [--shared-images PATH] IMAGE...
#
# Builds stand-ins for the images the erp-k8s manifests run, from Debian bookworm packages plus the sources next to
# this script, and pushes them to the test cluster's local registry under their REAL names (the cluster serves
# registry.example.com, docker.io, quay.io, registry.k8s.io... from it), so the manifests run unchanged:
#
#   registry.example.com/erp/api:TAG                     Django ERP API (django-erp/)
#   registry.example.com/erp/fastapi:TAG                 FastAPI ERP, seed 002 (fastapi-erp/)
#   [docker.io/]devyusupov/statushawk-api-gateway:TAG    API gateway, Django (gateway/)
#   quay.io/sclorg/postgresql-13-c9s:TAG                 -> $SHARED_IMAGES/sclorg-postgresql/build.sh
#   registry.k8s.io/kubectl:TAG                          -> $SHARED_IMAGES/kubectl/build.sh
#   [docker.io/][library/]redis:TAG                      Redis (redis/)
#
# What each stand-in keeps from the real image, and every difference: README.md.
# Needs root and a running cluster (cluster.sh up); honours ERP_K8S_STATE, ERP_K8S_IMAGE_CACHE, ERP_K8S_REGISTRY.
# Defaults: --cluster-sh ${ERP_K8S_CLUSTER_SH:-<repo>/../shared/k8s/cluster.sh},
#           --shared-images ${ERP_K8S_SHARED_IMAGES:-<repo>/../shared/images}.
# (The shared recipes find their cluster.sh themselves, next to them: --cluster-sh does not reach them.)
# stdout: one line per image: "built REF (RECIPE) in N.Ns"; the build logs go to stderr.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd -P)
REPO=$(cd "$HERE/../../.." && pwd -P)
CLUSTER_SH=${ERP_K8S_CLUSTER_SH:-$REPO/../shared/k8s/cluster.sh}
SHARED_IMAGES=${ERP_K8S_SHARED_IMAGES:-$REPO/../shared/images}
REGISTRY=${ERP_K8S_REGISTRY:-127.0.0.1:5000}

# One Debian package list for the three Python images: one cached apt layer (~25 s the first time, < 1 s later).
# The console scripts an image's real counterpart would not have are whited out per image (see whiteout()).
PY_APT="python3 python-is-python3 python3-django gunicorn celery python3-celery python3-django-celery-beat \
python3-psycopg2 python3-redis python3-prometheus-client python3-fastapi uvicorn alembic python3-alembic \
python3-sqlalchemy"
PY_SITE=/usr/local/lib/python3.11/dist-packages     # bookworm's python3 is 3.11; pip's place for local packages
PY_ENV=(--env PYTHONDONTWRITEBYTECODE=1 --env PYTHONUNBUFFERED=1 --env PYTHONPATH=/app)
REDIS_APT="redis-server redis-tools"
BASE_REF=localhost:5000/erp-k8s-build/bookworm-base:latest   # cluster.sh's Debian base (shared with sclorg's build)

KNOWN="registry.example.com/erp/api, registry.example.com/erp/fastapi, [docker.io/]devyusupov/statushawk-api-gateway, \
quay.io/sclorg/postgresql-13-c9s, registry.k8s.io/kubectl, [docker.io/][library/]redis"

usage() { # usage [EXIT_CODE]: the header above; on stdout for --help (exit 0), else on stderr (exit 2)
  local rc=${1:-2}
  if ((rc == 0)); then sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  else sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; fi
  exit "$rc"
}
die() { echo "build.sh: $*" >&2; exit 1; }
say() { echo "[e2e-images] $*" >&2; }

images=()
while (($#)); do
  case $1 in
    --cluster-sh) [[ $# -ge 2 ]] || usage; CLUSTER_SH=$2; shift 2 ;;
    --cluster-sh=*) CLUSTER_SH=${1#*=}; shift ;;
    --shared-images) [[ $# -ge 2 ]] || usage; SHARED_IMAGES=$2; shift 2 ;;
    --shared-images=*) SHARED_IMAGES=${1#*=}; shift ;;
    -h|--help) usage 0 ;;
    --) shift; images+=("$@"); break ;;
    -*) echo "build.sh: unknown option $1" >&2; usage ;;
    *) images+=("$1"); shift ;;
  esac
done
((${#images[@]})) || usage

# recipe_of REF: sets RECIPE (and TAG) for an image reference, or fails naming the known repositories.
recipe_of() {
  local ref=$1 name last
  [[ $ref != *@* ]] || { echo "build.sh: $ref: use a tag, not a digest" >&2; exit 2; }
  last=${ref##*/}
  [[ $last == *:* ]] || { echo "build.sh: $ref: give a tag (NAME:TAG)" >&2; exit 2; }
  TAG=${last##*:}
  name=${ref%:*}
  case $name in
    registry.example.com/erp/api) RECIPE=django-erp ;;
    registry.example.com/erp/fastapi) RECIPE=fastapi-erp ;;
    devyusupov/statushawk-api-gateway|docker.io/devyusupov/statushawk-api-gateway) RECIPE=gateway ;;
    quay.io/sclorg/postgresql-13-c9s) RECIPE=sclorg-postgresql ;;
    registry.k8s.io/kubectl) RECIPE=kubectl ;;
    redis|library/redis|docker.io/redis|docker.io/library/redis) RECIPE=redis ;;
    *) echo "build.sh: unknown image repository '$name' (from $ref); known: $KNOWN" >&2; exit 2 ;;
  esac
}

# Check every argument before building anything.
recipes=()
for ref in "${images[@]}"; do recipe_of "$ref"; recipes+=("$RECIPE"); done

[[ $(id -u) == 0 ]] || die "needs root (cluster.sh image build: debootstrap, chroot)"
[[ -x $CLUSTER_SH ]] || die "cluster.sh not found or not executable: $CLUSTER_SH (use --cluster-sh or ERP_K8S_CLUSTER_SH)"
for r in "${recipes[@]}"; do
  case $r in
    sclorg-postgresql|kubectl) [[ -x $SHARED_IMAGES/$r/build.sh ]] ||
      die "$SHARED_IMAGES/$r/build.sh not found (use --shared-images or ERP_K8S_SHARED_IMAGES)" ;;
  esac
done

T=$(mktemp -d "${TMPDIR:-/tmp}/erp-e2e-images.XXXXXX")
trap 'rm -rf "$T"' EXIT

cluster() { "$CLUSTER_SH" "$@" >&2; }

# stage SRC DST: a copy without byte-code caches, root-owned (cluster.sh --copy) and world-readable, not writable.
stage() {
  mkdir -p "$2"
  cp -R "$1"/. "$2"/
  find "$2" \( -name __pycache__ -o -name '*.pyc' \) -prune -exec rm -rf {} +
  chmod -R u+rwX,go+rX,go-w "$2"
}

# whiteout DIR NAME...: --copy arguments that delete DIR/NAME from the image (OCI whiteout files in the copy layer).
whiteout() {
  local dir=$1 n; shift
  mkdir -p "$T/wh"
  for n in "$@"; do
    : > "$T/wh/.wh.$n"; chmod 0644 "$T/wh/.wh.$n"
    WH+=(--copy "$T/wh/.wh.$n:$dir/.wh.$n")
  done
}

build_django_erp() {
  local ref=$1 s=$T/django-erp
  stage "$HERE/django-erp" "$s/app"
  mkdir -p "$s/app/media"; chmod 0755 "$s/app/media"        # a volume is mounted there
  WH=(); whiteout /usr/bin uvicorn alembic                      # FastAPI tools: not in the real Django image
  cluster image build "$ref" --apt "$PY_APT" --copy "$s/app:/app" "${WH[@]}" \
    --user 1000:1000 --workdir /app --env DJANGO_SETTINGS_MODULE=config.settings "${PY_ENV[@]}" \
    --cmd '["gunicorn", "--config", "/app/gunicorn.conf.py", "config.wsgi:application"]'
}

build_gateway() {
  local ref=$1 s=$T/gateway
  stage "$HERE/gateway" "$s/app"
  WH=(); whiteout /usr/bin uvicorn alembic
  cluster image build "$ref" --apt "$PY_APT" --copy "$s/app:/app" "${WH[@]}" \
    --user 1000:1000 --workdir /app --env DJANGO_SETTINGS_MODULE=config.settings.production "${PY_ENV[@]}" \
    --cmd '["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-", "config.wsgi:application"]'
}

build_fastapi_erp() {
  local ref=$1 s=$T/fastapi-erp
  stage "$HERE/fastapi-erp/project" "$s/app"
  stage "$HERE/fastapi-erp/erp_cli" "$s/site/erp_cli"
  stage "$HERE/fastapi-erp/erp_cli-0.1.dist-info" "$s/site/erp_cli-0.1.dist-info"
  mkdir -p "$s/bin" "$s/log-erp"
  cp "$HERE/fastapi-erp/erp-bootstrap" "$s/bin/erp-bootstrap"; chmod 0755 "$s/bin/erp-bootstrap"
  chmod 0755 "$s/log-erp"                                     # /var/log/erp: root's, NOT writable by 1000
  WH=(); whiteout /usr/bin gunicorn gunicorn3 celery django-admin   # Django tools: not in the real FastAPI image
  cluster image build "$ref" --apt "$PY_APT" --copy "$s/app:/app" \
    --copy "$s/site/erp_cli:$PY_SITE/erp_cli" --copy "$s/site/erp_cli-0.1.dist-info:$PY_SITE/erp_cli-0.1.dist-info" \
    --copy "$s/bin/erp-bootstrap:/usr/local/bin/erp-bootstrap" --copy "$s/log-erp:/var/log/erp" "${WH[@]}" \
    --user 1000:1000 --workdir /app "${PY_ENV[@]}" \
    --cmd '["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]'
}

# Redis: the official image's accounts (redis 999, group redis 1000: "alpine already has a gid 999"), no user `app`.
# Like ../shared/images/sclorg-postgresql: the account files of the Debian base are rewritten BEFORE redis-tools'
# postinst runs `adduser --system redis` (which then keeps uid 999). The account image is named after its content,
# so the apt layer on top of it is cached from the second build on.
build_redis() {
  local ref=$1 tag=${ref##*:} s=$T/redis l f hash acct stage_ref
  for f in skopeo umoci jq tar; do command -v "$f" >/dev/null || die "redis: $f not found (cluster.sh up installs it)"; done
  mkdir -p "$s/etc"
  # the Debian base as pushed by cluster.sh (or by the sclorg recipe); pushed here only when the registry lacks it
  skopeo inspect --tls-verify=false "docker://$REGISTRY/${BASE_REF#localhost:5000/}" >/dev/null 2>&1 || cluster image build "$BASE_REF"
  skopeo copy --insecure-policy --quiet --src-tls-verify=false "docker://$REGISTRY/${BASE_REF#localhost:5000/}" "dir:$s/base"
  for l in $(jq -r '.layers[].digest | sub("^sha256:"; "")' "$s/base/manifest.json"); do   # later layers win
    tar -xzf "$s/base/$l" -C "$s" --wildcards 'etc/passwd' 'etc/group' 'etc/shadow' 'etc/gshadow' 2>/dev/null || true
  done
  for f in passwd group shadow gshadow; do [[ -s $s/etc/$f ]] || die "no /etc/$f in the Debian base image"; done
  for f in passwd shadow; do grep -v '^app:' "$s/etc/$f" > "$s/$f.new" || true; mv "$s/$f.new" "$s/etc/$f"; done
  for f in group gshadow; do grep -v '^app:' "$s/etc/$f" > "$s/$f.new" || true; mv "$s/$f.new" "$s/etc/$f"; done
  ! awk -F: '$3 == 999' "$s/etc/passwd" | grep -q . || die "uid 999 is taken in the Debian base image"
  ! awk -F: '$3 == 1000' "$s/etc/group" | grep -q . || die "gid 1000 is taken in the Debian base image (besides app)"
  ! grep -q '^redis:' "$s/etc/passwd" "$s/etc/group" || die "the Debian base image already has a redis account"
  echo 'redis:x:999:1000:Linux User,,,:/home/redis:/sbin/nologin' >> "$s/etc/passwd"
  echo 'redis:!::0:::::' >> "$s/etc/shadow"
  echo 'redis:x:1000:redis' >> "$s/etc/group"
  echo 'redis:!::redis' >> "$s/etc/gshadow"
  chmod 0644 "$s/etc/passwd" "$s/etc/group"; chmod 0640 "$s/etc/shadow" "$s/etc/gshadow"
  # named after the base's layers + the account files: a new Debian base (new debootstrap) gives a new account image
  hash=$({ jq -r '.layers[].digest' "$s/base/manifest.json"; cat "$s/etc/passwd" "$s/etc/group" "$s/etc/shadow" "$s/etc/gshadow"; } |
    sha256sum | cut -c1-16)
  acct=localhost:5000/erp-k8s-build/redis-accounts:$hash
  if skopeo inspect --tls-verify=false "docker://$REGISTRY/erp-k8s-build/redis-accounts:$hash" >/dev/null 2>&1; then
    say "account layer $acct already in the registry"
  else
    cluster image build "$acct" --copy "$s/etc/passwd:/etc/passwd" --copy "$s/etc/group:/etc/group" \
      --copy "$s/etc/shadow:/etc/shadow" --copy "$s/etc/gshadow:/etc/gshadow"
  fi
  mkdir -p "$s/bin"
  cp "$HERE/redis/docker-entrypoint.sh" "$HERE/redis/su-exec" "$s/bin/"; chmod 0755 "$s/bin/"*
  WH=(); whiteout /usr/bin bash rbash bashbug                  # alpine: busybox sh, no bash
  stage_ref=localhost:5000/erp-k8s-build/redis-stage:$tag
  cluster image build "$stage_ref" --from "$acct" --apt "$REDIS_APT" \
    --copy "$s/bin/docker-entrypoint.sh:/usr/local/bin/docker-entrypoint.sh" --copy "$s/bin/su-exec:/usr/local/bin/su-exec" \
    "${WH[@]}" --workdir /data --entrypoint '["docker-entrypoint.sh"]' --cmd '["redis-server"]'
  # /data owned by redis:redis (999:1000) 0755 as in the real Dockerfile; cluster.sh --copy makes everything root's,
  # so this one layer is added with umoci (as cluster.sh does for --copy) and pushed with cluster.sh image push.
  skopeo copy --insecure-policy --quiet --src-tls-verify=false "docker://$REGISTRY/erp-k8s-build/redis-stage:$tag" "oci:$s/oci:img"
  mkdir -p "$s/data-layer/data"; chown 999:1000 "$s/data-layer/data"; chmod 0755 "$s/data-layer/data"
  tar -C "$s/data-layer" --numeric-owner -cf "$s/data.tar" data
  umoci raw add-layer --image "$s/oci:img" --history.created_by "mkdir /data && chown redis:redis /data" "$s/data.tar"
  cluster image push "$s/oci:img" "$ref"
}

build_delegated() { # build_delegated RECIPE REF
  "$SHARED_IMAGES/$1/build.sh" "$2" >&2
}

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

declare -A first_ref=() done_key=()
for i in "${!images[@]}"; do
  ref=${images[$i]} recipe=${recipes[$i]}
  recipe_of "$ref"
  key=$recipe:$TAG                      # one mirrored repository per recipe: same recipe + tag = same image
  if [[ -n ${done_key[$key]:-} ]]; then
    say "$ref: same image as ${done_key[$key]}, already built"
    continue
  fi
  start=$EPOCHREALTIME
  if [[ -n ${first_ref[$recipe]:-} ]]; then
    say "$ref: retagging ${first_ref[$recipe]} (the $recipe recipe is built once per run)"
    cluster image build "$ref" --from "${first_ref[$recipe]}"
  else
    say "$ref: building the $recipe stand-in"
    case $recipe in
      django-erp) build_django_erp "$ref" ;;
      gateway) build_gateway "$ref" ;;
      fastapi-erp) build_fastapi_erp "$ref" ;;
      redis) build_redis "$ref" ;;
      sclorg-postgresql|kubectl) build_delegated "$recipe" "$ref" ;;
    esac
    first_ref[$recipe]=$ref
  fi
  done_key[$key]=$ref
  echo "built $ref ($recipe) in $(elapsed "$start")s"
done
