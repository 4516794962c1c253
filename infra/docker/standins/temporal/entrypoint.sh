#!/bin/sh
# Entrypoint of the Helfy temporal stand-in; same steps as the real image's
# /etc/temporal/entrypoint.sh: bind to the container's own address unless
# BIND_ON_IP is given, derive the broadcast address when binding to a
# wildcard, then run the server with its embedded, env-driven config.
set -eu

: "${BIND_ON_IP:=$(getent hosts "$(hostname)" | awk '{print $1;}')}"
export BIND_ON_IP

if [ "${BIND_ON_IP}" = "0.0.0.0" ] || [ "${BIND_ON_IP}" = "::0" ]; then
    : "${TEMPORAL_BROADCAST_ADDRESS:=$(getent hosts "$(hostname)" | awk '{print $1;}')}"
    export TEMPORAL_BROADCAST_ADDRESS
fi

exec temporal-server start
