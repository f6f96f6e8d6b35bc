#!/bin/sh
# The official redis image's entrypoint contract (docker-library/redis, 7.2 alpine):
#  - a first argument that is an option (-x/--x) or a *.conf file means "redis-server <args>";
#  - started as root with redis-server: chown what in the working directory (/data) is not redis's, then
#    re-exec itself as the redis user (su-exec);
#  - umask 0077 when the inherited one is the default 0022.
# A pod `command:` replaces this entrypoint entirely (the manifests run redis-server directly as uid 999).
set -e

case "$1" in
	-*|*.conf) set -- redis-server "$@" ;;
esac

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec su-exec redis "$0" "$@"
fi

if [ "$(umask)" = '0022' ]; then
	umask 0077
fi

exec "$@"
