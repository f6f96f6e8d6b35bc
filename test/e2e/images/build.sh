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
#   quay.io/sclorg/postgresql-{13,15}-c9s:TAG            -> $SHARED_IMAGES/sclorg-postgresql/build.sh (PostgreSQL 15)
#   registry.k8s.io/kubectl:TAG                          -> $SHARED_IMAGES/kubectl/build.sh
#   [docker.io/][library/]redis:TAG                      Redis (redis/)
#   [docker.io/]rclone/rclone:TAG                        rclone 1.60 from Debian on a busybox root file system (rclone/)
#   registry.example.com/erp-k8s-test/s3rver:TAG         the e2e suite's S3 server: s3rver from node_modules (s3rver/)
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
# rclone: the Debian packages its busybox root file system is assembled from (see build_rclone)
RCLONE_APT="rclone busybox-static ca-certificates tzdata"
S3RVER_APT="nodejs"
BASE_REF=localhost:5000/erp-k8s-build/bookworm-base:latest   # cluster.sh's Debian base (shared with sclorg's build)

KNOWN="registry.example.com/erp/api, registry.example.com/erp/fastapi, [docker.io/]devyusupov/statushawk-api-gateway, \
quay.io/sclorg/postgresql-13-c9s, quay.io/sclorg/postgresql-15-c9s, registry.k8s.io/kubectl, [docker.io/][library/]redis, \
[docker.io/]rclone/rclone, registry.example.com/erp-k8s-test/s3rver"

usage() { # usage [EXIT_CODE]: the header above; on stdout for --help (exit 0), else on stderr (exit 2)
  local rc=${1:-2}
  if ((rc == 0)); then sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  else sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; fi
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

# recipe_of REF: sets RECIPE, TAG and MIRRORED (REPO:TAG as the local registry stores it, like cluster.sh's
# mirror_repo: redis:7 and docker.io/library/redis:7 are both library/redis:7) for an image reference, or fails naming
# the known repositories.
recipe_of() {
  local ref=$1 name last host rest
  [[ $ref != *@* ]] || { echo "build.sh: $ref: use a tag, not a digest" >&2; exit 2; }
  last=${ref##*/}
  [[ $last == *:* ]] || { echo "build.sh: $ref: give a tag (NAME:TAG)" >&2; exit 2; }
  TAG=${last##*:}
  name=${ref%:*}
  host=${name%%/*}
  if [[ $name == */* && ( $host == *.* || $host == *:* || $host == localhost ) ]]; then rest=${name#*/}
  else host=docker.io; rest=$name; fi
  case $host in docker.io|index.docker.io|registry-1.docker.io) [[ $rest == */* ]] || rest=library/$rest ;; esac
  MIRRORED=$rest:$TAG
  case $name in
    registry.example.com/erp/api) RECIPE=django-erp ;;
    registry.example.com/erp/fastapi) RECIPE=fastapi-erp ;;
    devyusupov/statushawk-api-gateway|docker.io/devyusupov/statushawk-api-gateway) RECIPE=gateway ;;
    quay.io/sclorg/postgresql-13-c9s|quay.io/sclorg/postgresql-15-c9s) RECIPE=sclorg-postgresql ;;
    registry.k8s.io/kubectl) RECIPE=kubectl ;;
    redis|library/redis|docker.io/redis|docker.io/library/redis) RECIPE=redis ;;
    rclone/rclone|docker.io/rclone/rclone) RECIPE=rclone ;;
    registry.example.com/erp-k8s-test/s3rver) RECIPE=s3rver ;;
    *) echo "build.sh: unknown image repository '$name' (from $ref); known: $KNOWN" >&2; exit 2 ;;
  esac
}

# Check every argument before building anything.
recipes=()
for ref in "${images[@]}"; do recipe_of "$ref"; recipes+=("$RECIPE"); done

[[ $(id -u) == 0 ]] || die "needs root (cluster.sh image build: debootstrap, chroot)"
[[ -x $CLUSTER_SH ]] || die "cluster.sh not found or not executable: $CLUSTER_SH (use --cluster-sh or ERP_K8S_CLUSTER_SH)"
for ref in "${images[@]}"; do
  recipe_of "$ref"
  case $RECIPE in
    sclorg-postgresql|kubectl) [[ -x $SHARED_IMAGES/$RECIPE/build.sh ]] ||
      die "$SHARED_IMAGES/$RECIPE/build.sh not found (use --shared-images or ERP_K8S_SHARED_IMAGES)" ;;
    s3rver) # packed from this repository's node_modules (devDependency s3rver, exact version): the tag must match it
      command -v node >/dev/null || die "s3rver: node not found (the image is packed from $REPO/node_modules with node)"
      [[ -f $REPO/node_modules/s3rver/package.json ]] || die "s3rver: $REPO/node_modules/s3rver is missing (run npm ci)"
      v=$(node -p 'require(process.argv[1]).version' "$REPO/node_modules/s3rver/package.json")
      [[ $v == "$TAG" ]] || die "s3rver: $ref wants s3rver $TAG, but $REPO/node_modules has s3rver $v" ;;
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

# rclone: the real image (rclone's Dockerfile) is Alpine + ca-certificates fuse3 tzdata, /usr/local/bin/rclone, user
# rclone 1009:1009 (not the default user: root), ENTRYPOINT ["rclone"], WORKDIR /data, XDG_CONFIG_HOME=/config. The
# stand-in is a root file system of its own, like Alpine's: busybox (Debian's busybox-static: /bin/sh is busybox ash,
# the other tools are busybox applets, no bash, no GNU coreutils), Debian's rclone in /usr/local/bin with the two glibc
# files it links (libc.so.6, ld-linux), the CA bundle and zoneinfo, and Alpine-style account files (rclone/etc/).
# The Debian packages come from an apt layer of cluster.sh (erp-k8s-build/rclone-debs:<hash>); the image (one layer,
# the real image's config) is made with umoci and pushed with `cluster.sh image push`.
build_rclone() {
  local ref=$1 s=$T/rclone D R a f debs_ref hash
  for f in skopeo umoci jq chroot unshare; do command -v "$f" >/dev/null || die "rclone: $f not found (cluster.sh up installs it)"; done
  # the package image is named after the Debian base's layers (its config changes with every push of the base) and
  # the package list: built and pushed once, not every run
  skopeo inspect --tls-verify=false "docker://$REGISTRY/${BASE_REF#localhost:5000/}" >/dev/null 2>&1 || cluster image build "$BASE_REF"
  hash=$({ skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/${BASE_REF#localhost:5000/}" | jq -r '.layers[].digest'
    echo "$RCLONE_APT"; } | sha256sum | cut -c1-16)
  debs_ref=localhost:5000/erp-k8s-build/rclone-debs:$hash
  if skopeo inspect --tls-verify=false "docker://$REGISTRY/erp-k8s-build/rclone-debs:$hash" >/dev/null 2>&1; then
    say "package image $debs_ref already in the registry"
  else
    cluster image build "$debs_ref" --apt "$RCLONE_APT"
  fi
  mkdir -p "$s"
  skopeo copy --insecure-policy --quiet --src-tls-verify=false "docker://$REGISTRY/erp-k8s-build/rclone-debs:$hash" "oci:$s/oci:debs"
  D=$s/debs R=$s/root
  umoci raw unpack --image "$s/oci:debs" "$D" >&2
  # bookworm is merged-/usr: the real files are under usr/ (bin/, lib/, lib64/ are symlinks into it)
  for f in usr/bin/busybox usr/bin/rclone usr/lib/x86_64-linux-gnu/libc.so.6 usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \
      etc/ssl/certs/ca-certificates.crt; do
    [[ -f $D/$f && ! -L $D/$f ]] || die "rclone: /$f is not a file in $debs_ref"
  done
  [[ -d $D/usr/share/zoneinfo ]] || die "rclone: no /usr/share/zoneinfo in $debs_ref"
  mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib/x86_64-linux-gnu,lib64,etc/ssl/certs,usr/share,root,home/rclone} \
    "$R"/{tmp,var/tmp,data,dev,proc,sys,run,mnt,media,opt,srv}
  cp "$D/usr/bin/busybox" "$R/bin/busybox"
  # every applet of Debian's busybox as a symlink, as Alpine's busybox package installs them, except Debian's
  # package-manager applets (Alpine's busybox has none: its package manager is apk, which the real image has and
  # this one does not)
  while IFS= read -r a; do
    case ${a##*/} in busybox|dpkg|dpkg-deb|rpm|rpm2cpio) continue ;; esac
    [[ -e $R/$a || -L $R/$a ]] || ln -s /bin/busybox "$R/$a"
  done < <("$R/bin/busybox" --list-full)
  [[ -L $R/bin/sh ]] || die "rclone: busybox has no sh applet"
  cp "$D/usr/bin/rclone" "$R/usr/local/bin/rclone"
  cp "$D/usr/lib/x86_64-linux-gnu/libc.so.6" "$D/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$R/lib/x86_64-linux-gnu/"
  ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$R/lib64/ld-linux-x86-64.so.2"
  cp "$D/etc/ssl/certs/ca-certificates.crt" "$R/etc/ssl/certs/ca-certificates.crt"
  ln -s certs/ca-certificates.crt "$R/etc/ssl/cert.pem"
  cp -a "$D/usr/share/zoneinfo" "$R/usr/share/zoneinfo"
  for f in passwd group shadow; do cp "$HERE/rclone/etc/$f" "$R/etc/$f"; done
  chown -R 0:0 "$R"
  chmod -R u+rwX,go+rX,go-w "$R"
  chmod 0640 "$R/etc/shadow"; chgrp 42 "$R/etc/shadow"          # shadow group 42, as in Alpine
  chmod 0700 "$R/root"; chmod 1777 "$R/tmp" "$R/var/tmp"
  chown 1009:1009 "$R/home/rclone"; chmod 0755 "$R/home/rclone"   # busybox adduser -D
  # the root file system works: busybox sh and the rclone binary with its libraries (Debian's rclone needs /dev/null
  # at start, go-fuse's splice check; a container has it)
  chroot "$R" /bin/sh -c 'test -x /usr/local/bin/rclone' || die "rclone: /bin/sh does not run in the root file system"
  unshare -m --propagation private -- sh -c 'mount --bind /dev "$1/dev" && mount -t proc proc "$1/proc" &&
      exec chroot "$1" /usr/local/bin/rclone version' sh "$R" >&2 || die "rclone: rclone does not run in the root file system"
  # one layer and the real image's config, in an OCI layout of our own, pushed with cluster.sh image push (a plain
  # directory push + `image build --from` would cost a second push and a gc of the whole image cache)
  tar -C "$R" --numeric-owner -cf "$s/rootfs.tar" .
  umoci init --layout "$s/oci-out"
  umoci new --image "$s/oci-out:img"
  umoci raw add-layer --image "$s/oci-out:img" --history.created_by "build.sh: busybox + Debian rclone root file system" "$s/rootfs.tar"
  umoci config --image "$s/oci-out:img" --os linux --architecture amd64 --history.created_by "build.sh: rclone image config" \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.env XDG_CONFIG_HOME=/config \
    --config.entrypoint rclone --config.workingdir /data
  cluster image push "$s/oci-out:img" "$ref"
}

# s3rver: not a stand-in but the e2e suite's own S3 server (test/e2e/s3.ts): Debian's nodejs, the s3rver package and
# its dependency tree exactly as npm installed them in this repository's node_modules (s3rver/stage-modules.js), and
# s3rver/server.js (s3rver's command line plus the checks of a private bucket on real S3: SigV4, no anonymous access,
# no bucket administration). User 1000:1000, read-only-root friendly (data and /tmp are volumes).
build_s3rver() {
  local ref=$1 s=$T/s3rver n
  mkdir -p "$s/opt"
  n=$(node "$HERE/s3rver/stage-modules.js" "$REPO" s3rver "$s/opt" | sort -u | wc -l)
  say "s3rver: $n packages (s3rver and its dependency tree) packed from $REPO/node_modules"
  cp "$HERE/s3rver/server.js" "$s/opt/server.js"
  chmod -R u+rwX,go+rX,go-w "$s/opt"
  cluster image build "$ref" --apt "$S3RVER_APT" --copy "$s/opt:/opt/s3rver" --user 1000:1000 --workdir /opt/s3rver \
    --entrypoint '["node", "/opt/s3rver/server.js"]' \
    --cmd '["-d", "/tmp/s3rver", "-a", "0.0.0.0", "-p", "5000", "--no-vhost-buckets"]'
}

build_delegated() { # build_delegated RECIPE REF
  "$SHARED_IMAGES/$1/build.sh" "$2" >&2
}

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

declare -A first_ref=() done_key=()
for i in "${!images[@]}"; do
  ref=${images[$i]} recipe=${recipes[$i]}
  recipe_of "$ref"
  key=$MIRRORED                         # the same image in the local registry, whatever the registry host's spelling
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
      rclone) build_rclone "$ref" ;;
      s3rver) build_s3rver "$ref" ;;
      sclorg-postgresql|kubectl) build_delegated "$recipe" "$ref" ;;
    esac
    first_ref[$recipe]=$ref
  fi
  done_key[$key]=$ref
  echo "built $ref ($recipe) in $(elapsed "$start")s"
done
