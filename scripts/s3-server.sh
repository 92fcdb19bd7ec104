#!/usr/bin/env bash
# A real S3 server for tests and single-machine deployments: Ceph's RADOS Gateway on a one-node
# cluster (one monitor, one OSD on a sparse bluestore file, no manager), from Debian's packages.
# Idempotent, runs as root without systemd, listens on 127.0.0.1 only; every path lives under
# RATSFACH_CEPH_DIR (default "$DATA_DIR/ceph"). Logs go to stderr; `start --env` and `env` print
# only `export` lines, RATSFACH_CEPH_DIR among them, so a test that restarts a gateway through this
# script from another checkout acts on the same cluster.
#   scripts/s3-server.sh install|start [--env]|stop|status|wipe|env
#   scripts/s3-server.sh stop-rgw|kill-rgw|start-rgw|restart-rgw [spare]
# The last four act on one gateway only (kill-rgw: SIGKILL, a crash), for "server gone
# mid-upload" tests; `spare` is a second gateway on the same cluster (started on demand, stopped
# by `stop`), so such a test can crash its own gateway without failing other tests that use the
# main one at the same time.
# RATSFACH_S3_PORT sets the main gateway's port (default 7480), RATSFACH_S3_SPARE_PORT the spare's
# (default the main port + 1). The monitor's ports (RATSFACH_CEPH_MON_PORT, default 3300, and
# RATSFACH_CEPH_MON_V1_PORT, default 6789) are fixed when the cluster is bootstrapped (they are
# written into its monitor map) and kept in "$CEPH_DIR/mon_host"; a second cluster on the same
# machine needs other ones. The OSD picks free ports itself.
# The daemons run as root (the caller), so the cluster may live where no other user may enter.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

S3_PORT="${RATSFACH_S3_PORT:-7480}"
SPARE_PORT="${RATSFACH_S3_SPARE_PORT:-$((S3_PORT + 1))}"
CEPH_DIR="${RATSFACH_CEPH_DIR:-$DATA_DIR/ceph}"
CONF="$CEPH_DIR/ceph.conf"
RUN_DIR="$CEPH_DIR/run"
LOG_DIR="$CEPH_DIR/log"
MON_ID="a"
RGW_NAME="client.rgw.$MON_ID"
SPARE_NAME="client.rgw.spare"
# Test credentials only: the gateway listens on loopback and holds throwaway data.
ACCESS_KEY="RATSFACHTESTACCESSKEY"
SECRET_KEY="ratsfach-test-secret-key-loopback-only"
BUCKET_PREFIX="ratsfach-test-"
READY_BOUND=120

ceph_() { ceph -c "$CONF" --connect-timeout 10 "$@"; }

print_env() {
  cat <<ENV
export RATSFACH_TEST_S3_ENDPOINT=127.0.0.1
export RATSFACH_TEST_S3_PORT=$S3_PORT
export RATSFACH_TEST_S3_ACCESS_KEY=$ACCESS_KEY
export RATSFACH_TEST_S3_SECRET_KEY=$SECRET_KEY
export RATSFACH_TEST_S3_BUCKET_PREFIX=$BUCKET_PREFIX
export RATSFACH_TEST_S3_SPARE_PORT=$SPARE_PORT
export RATSFACH_CEPH_DIR=$CEPH_DIR
ENV
}

install() {
  local missing=()
  command -v ceph-mon >/dev/null || missing+=(ceph-mon)
  command -v ceph-osd >/dev/null || missing+=(ceph-osd)
  command -v radosgw >/dev/null || missing+=(radosgw)
  command -v uuidgen >/dev/null || missing+=(uuid-runtime)
  command -v curl >/dev/null || missing+=(curl)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
  command -v radosgw-admin >/dev/null || die "radosgw-admin not found after install"
}

# The monitor's addresses of a new cluster; an existing one keeps those it was bootstrapped with (a
# cluster from before the file existed has the defaults).
new_mon_host() {
  echo "[v2:127.0.0.1:${RATSFACH_CEPH_MON_PORT:-3300},v1:127.0.0.1:${RATSFACH_CEPH_MON_V1_PORT:-6789}]"
}
mon_host() { cat "$CEPH_DIR/mon_host" 2>/dev/null || echo "[v2:127.0.0.1:3300,v1:127.0.0.1:6789]"; }

# The config is rewritten on every start, so a changed RATSFACH_S3_PORT takes effect; the cluster's
# identity (fsid) and monitor addresses are kept in their own files.
write_conf() {
  local fsid; fsid="$(cat "$CEPH_DIR/fsid")"
  cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon_host = $(mon_host)
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
run_dir = $RUN_DIR
crash_dir = $CEPH_DIR/crash
log_file = $LOG_DIR/\$name.log
mon_cluster_log_file = $LOG_DIR/cluster.log
log_to_stderr = false
err_to_stderr = true
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_warn_on_pool_no_redundancy = false

[mon]
mon_data = $CEPH_DIR/mon/\$cluster-\$id
keyring = $CEPH_DIR/mon/\$cluster-\$id/keyring
admin_socket = $RUN_DIR/\$cluster-\$name.asok
pid_file = $RUN_DIR/\$name.pid

[osd]
osd_data = $CEPH_DIR/osd/\$cluster-\$id
keyring = $CEPH_DIR/osd/\$cluster-\$id/keyring
admin_socket = $RUN_DIR/\$cluster-\$name.asok
pid_file = $RUN_DIR/\$name.pid
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = 21474836480
osd_memory_target = 1073741824

[client]
keyring = $CEPH_DIR/\$name.keyring

[$RGW_NAME]
admin_socket = $RUN_DIR/\$cluster-\$name.asok
pid_file = $RUN_DIR/\$name.pid
rgw_data = $CEPH_DIR/rgw
rgw_frontends = beast endpoint=127.0.0.1:$S3_PORT tcp_nodelay=1

[$SPARE_NAME]
admin_socket = $RUN_DIR/\$cluster-\$name.asok
pid_file = $RUN_DIR/\$name.pid
rgw_data = $CEPH_DIR/rgw-spare
rgw_frontends = beast endpoint=127.0.0.1:$SPARE_PORT tcp_nodelay=1
CONF
}

# A PID file whose process is gone, a zombie, or another program means "stopped".
daemon_pid() {
  local name="$1" comm="$2" pid state
  [ -f "$RUN_DIR/$name.pid" ] || return 1
  pid="$(cat "$RUN_DIR/$name.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state="$(ps -o stat= -p "$pid" 2>/dev/null)" || return 1
  [[ "$state" == Z* ]] && return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
  echo "$pid"
}
daemon_running() { daemon_pid "$@" >/dev/null; }

osd_id() { cat "$CEPH_DIR/osd_id" 2>/dev/null; }

mon_running() { daemon_running "mon.$MON_ID" ceph-mon; }
osd_running() { daemon_running "osd.$(osd_id)" ceph-osd; }
rgw_running() { daemon_running "$RGW_NAME" radosgw; }

# The gateway a subcommand acts on: the main one, or `spare`.
gateway() {
  case "${1:-}" in
    "") GW_NAME="$RGW_NAME" GW_PORT="$S3_PORT" ;;
    spare) GW_NAME="$SPARE_NAME" GW_PORT="$SPARE_PORT" ;;
    *) die "unknown gateway '$1' (use no name or 'spare')" ;;
  esac
}

fail_with_log() {
  local file="$1"; shift
  log "last lines of $file:"
  tail -n 40 "$file" >&2 2>/dev/null || true
  die "$*"
}

# Daemons fork into the background; their stdio must not hold the caller's pipes open.
spawn() { "$@" </dev/null >>"$LOG_DIR/spawn.out" 2>&1; }

start_mon() {
  mon_running && return 0
  log "starting ceph-mon"
  spawn ceph-mon -c "$CONF" -i "$MON_ID" || fail_with_log "$LOG_DIR/mon.$MON_ID.log" "ceph-mon did not start"
  wait_for "$READY_BOUND" "the monitor" ceph_ mon stat ||
    fail_with_log "$LOG_DIR/mon.$MON_ID.log" "the monitor did not answer"
}

osd_up() { ceph_ osd stat -f json | grep -q '"num_up_osds":1'; }

start_osd() {
  local id; id="$(osd_id)"
  if ! osd_running; then
    log "starting ceph-osd.$id"
    spawn ceph-osd -c "$CONF" -i "$id" || fail_with_log "$LOG_DIR/osd.$id.log" "ceph-osd did not start"
  fi
  wait_for "$READY_BOUND" "the OSD to be up" osd_up || fail_with_log "$LOG_DIR/osd.$id.log" "the OSD is not up"
}

rgw_answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; }

# Starts one gateway (the main one unless `spare`) and waits until it answers HTTP.
start_rgw() {
  gateway "${1:-}"
  local name="$GW_NAME" port="$GW_PORT"
  if [ ! -f "$CEPH_DIR/$name.keyring" ]; then
    ceph_ auth get-or-create "$name" mon 'allow rw' osd 'allow rwx' -o "$CEPH_DIR/$name.keyring" >&2
  fi
  if ! daemon_running "$name" radosgw; then
    log "starting radosgw $name on 127.0.0.1:$port"
    spawn radosgw -c "$CONF" -n "$name" || fail_with_log "$LOG_DIR/$name.log" "radosgw did not start"
  fi
  wait_for "$READY_BOUND" "the gateway on 127.0.0.1:$port" rgw_answers "$port" ||
    fail_with_log "$LOG_DIR/$name.log" "radosgw does not answer on 127.0.0.1:$port"
}

stop_rgw() {
  gateway "${1:-}"
  stop_daemon "$GW_NAME" radosgw
}

# A crash of one gateway: SIGKILL, then wait until it is gone (a zombie counts as gone).
kill_rgw() {
  gateway "${1:-}"
  local pid
  pid="$(daemon_pid "$GW_NAME" radosgw)" || return 0
  log "killing $GW_NAME (pid $pid)"
  kill -KILL "$pid" 2>/dev/null || true
  wait_for 30 "$GW_NAME to exit" bash -c "! kill -0 $pid 2>/dev/null || ps -o stat= -p $pid | grep -q Z"
}

bootstrap() {
  local tmp="$CEPH_DIR/bootstrap"
  log "bootstrapping a one-node Ceph cluster in $CEPH_DIR"
  local avail_kib; avail_kib="$(df -Pk "$DATA_DIR" | awk 'NR==2 {print $4}')"
  ((avail_kib > 8 * 1024 * 1024)) || die "less than 8 GiB free under $DATA_DIR: a full disk makes the OSD fail"
  mkdir -p "$tmp" "$RUN_DIR" "$LOG_DIR" "$CEPH_DIR/crash" "$CEPH_DIR/rgw" "$CEPH_DIR/mon/ceph-$MON_ID"
  uuidgen >"$CEPH_DIR/fsid"
  new_mon_host >"$CEPH_DIR/mon_host"
  write_conf

  ceph-authtool --create-keyring "$tmp/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >&2
  ceph-authtool --create-keyring "$CEPH_DIR/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >&2
  ceph-authtool "$tmp/mon.keyring" --import-keyring "$CEPH_DIR/client.admin.keyring" >&2
  monmaptool --create --fsid "$(cat "$CEPH_DIR/fsid")" --addv "$MON_ID" "$(mon_host)" "$tmp/monmap" >&2
  ceph-mon -c "$CONF" --mkfs -i "$MON_ID" --monmap "$tmp/monmap" --keyring "$tmp/mon.keyring" >&2
  start_mon

  local uuid secret id
  uuid="$(uuidgen)"
  secret="$(ceph-authtool --gen-print-key)"
  id="$(printf '{"cephx_secret": "%s"}' "$secret" | ceph_ osd new "$uuid" -i -)"
  [[ "$id" =~ ^[0-9]+$ ]] || die "ceph osd new returned '$id'"
  mkdir -p "$CEPH_DIR/osd/ceph-$id"
  ceph-authtool --create-keyring "$CEPH_DIR/osd/ceph-$id/keyring" --name "osd.$id" --add-key "$secret" >&2
  ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" >&2 || fail_with_log "$LOG_DIR/osd.$id.log" "ceph-osd --mkfs failed"
  echo "$id" >"$CEPH_DIR/osd_id"
  start_osd

  start_rgw
  radosgw-admin -c "$CONF" user create --uid=ratsfach-test --display-name="ratsfach tests" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
  rm -rf "$tmp"
  touch "$CEPH_DIR/bootstrapped"
  log "bootstrap done"
}

start() {
  install
  if [ ! -f "$CEPH_DIR/bootstrapped" ]; then
    if [ -d "$CEPH_DIR" ]; then
      log "found a half-bootstrapped cluster in $CEPH_DIR: removing it"
      stop_all
      rm -rf "$CEPH_DIR"
    fi
    bootstrap
  else
    write_conf
    start_mon
    start_osd
    start_rgw
  fi
  log "S3 (radosgw) ready on http://127.0.0.1:$S3_PORT"
}

# SIGTERM, then SIGKILL after a bound; a zombie counts as stopped.
stop_daemon() {
  local name="$1" comm="$2" pid
  pid="$(daemon_pid "$name" "$comm")" || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local start=$SECONDS
  while daemon_running "$name" "$comm"; do
    if ((SECONDS - start > 30)); then
      log "$name did not stop after 30s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
}

stop_all() {
  [ -d "$RUN_DIR" ] || return 0
  stop_daemon "$SPARE_NAME" radosgw
  stop_daemon "$RGW_NAME" radosgw
  [ -n "$(osd_id)" ] && stop_daemon "osd.$(osd_id)" ceph-osd
  stop_daemon "mon.$MON_ID" ceph-mon
}

status() {
  local all=0
  if mon_running; then echo "mon.$MON_ID running"; else echo "mon.$MON_ID stopped"; all=3; fi
  if [ -n "$(osd_id)" ] && osd_running; then echo "osd.$(osd_id) running"; else echo "osd stopped"; all=3; fi
  if rgw_running; then echo "radosgw running on http://127.0.0.1:$S3_PORT"; else echo "radosgw stopped"; all=3; fi
  if daemon_running "$SPARE_NAME" radosgw; then echo "spare radosgw running on http://127.0.0.1:$SPARE_PORT"; fi
  return "$all"
}

need_cluster() { [ -f "$CEPH_DIR/bootstrapped" ] || die "no cluster in $CEPH_DIR: run '$0 start' first"; }

case "${1:-}" in
  install) install ;;
  start)
    start
    if [ "${2:-}" = "--env" ]; then print_env; fi
    ;;
  stop) stop_all ;;
  status) status ;;
  wipe)
    stop_all
    rm -rf "$CEPH_DIR"
    log "wiped $CEPH_DIR"
    ;;
  env) print_env ;;
  stop-rgw) need_cluster; stop_rgw "${2:-}" ;;
  kill-rgw) need_cluster; kill_rgw "${2:-}" ;;
  start-rgw) need_cluster; write_conf; start_rgw "${2:-}" ;;
  restart-rgw) need_cluster; stop_rgw "${2:-}"; write_conf; start_rgw "${2:-}" ;;
  *)
    echo "usage: $0 install|start [--env]|stop|status|wipe|env|stop-rgw|kill-rgw|start-rgw|restart-rgw [spare]" >&2
    exit 2
    ;;
esac
