#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying profiles/slurm and for tests/workflow/test_slurm.py.
# Needs root (Debian/Ubuntu: installs slurm-wlm and munge with apt-get when missing); no systemd.
#
#   scripts/slurm_cluster.sh start  [DIR]   install if needed, write DIR/slurm.conf, start
#                                           munged (unless one runs), slurmctld, slurmd and wait
#                                           until the node is idle
#   scripts/slurm_cluster.sh status [DIR]   the daemons this script started, and sinfo
#   scripts/slurm_cluster.sh stop   [DIR]   cancel the cluster's jobs, stop exactly the daemons
#                                           this script started (PID files in DIR)
#
# DIR defaults to $HEPFLOWS_SLURM_DIR, else /tmp/hepflows-slurm. It holds slurm.conf, the
# state, spool, logs and PID files. Outside it: the link below, /run/munge, and only where
# missing, /etc/munge/munge.key and the hostname in /etc/hosts. Slurm's clients (sbatch,
# squeue, scontrol: what Snakemake's Slurm plugin calls) find the cluster through
#   export SLURM_CONF=DIR/slurm.conf
# which `start` prints as its last line. Inside a job, though, the Slurm plugin's job step
# (snakemake-executor-plugin-slurm-jobstep 0.6) drops every SLURM_* variable, SLURM_CONF too,
# before it calls `srun`; srun then looks in /etc/slurm/slurm.conf and /run/slurm/conf/slurm.conf
# (where a configless slurmd keeps its copy). So `start` links /run/slurm/conf/slurm.conf to
# DIR/slurm.conf (refusing if /etc/slurm/slurm.conf exists: that would be another cluster's),
# and `stop` removes the link. Then, e.g. (no slurmdbd here, so no sacct):
#   snakemake --profile profiles/slurm all_AD --slurm-status-command squeue
#
# Exit codes: 0 ok, 2 usage, 3 Slurm cannot be had (not root, no apt-get, install failed),
# 4 a daemon did not start or the node did not become idle (see DIR/*.log).
# Ports (env): HEPFLOWS_SLURMCTLD_PORT (6817), HEPFLOWS_SLURMD_PORT (6818).
set -euo pipefail

cmd=${1:-}
DIR=$(realpath -m "${2:-${HEPFLOWS_SLURM_DIR:-/tmp/hepflows-slurm}}")
CONF=$DIR/slurm.conf
CTLD_PORT=${HEPFLOWS_SLURMCTLD_PORT:-6817}
SLURMD_PORT=${HEPFLOWS_SLURMD_PORT:-6818}
export SLURM_CONF=$CONF

say() { echo "slurm_cluster: $*" >&2; }
die() {
    local code=$1
    shift
    say "$*"
    exit "$code"
}

# The PID in DIR/NAME.pid if that process is alive and is NAME (a recycled PID is not ours).
live_pid() {
    local name=$1 file=$DIR/$1.pid pid
    [[ -s $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/comm && $(<"/proc/$pid/comm") == "$name" ]] || return 1
    echo "$pid"
}

munge_works() {
    command -v munge >/dev/null && munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1
}

node_state() { sinfo -h -N -o %T 2>/dev/null | head -n1; }

install_slurm() {
    local missing=()
    for bin in slurmctld slurmd sbatch squeue sinfo scontrol munged munge unmunge; do
        command -v "$bin" >/dev/null || missing+=("$bin")
    done
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null ||
        die 3 "missing ${missing[*]} and no apt-get to install slurm-wlm munge"
    say "installing slurm-wlm munge (missing: ${missing[*]})"
    local t0=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q slurm-wlm munge >"$DIR/apt.log" 2>&1; then
        # A stale package index is the usual reason; refresh it once.
        apt-get update -q >>"$DIR/apt.log" 2>&1 || true
        apt-get install -y -q slurm-wlm munge >>"$DIR/apt.log" 2>&1 ||
            die 3 "apt-get install slurm-wlm munge failed; see $DIR/apt.log"
    fi
    say "installed in $((SECONDS - t0)) s"
}

write_conf() {
    local host node mem
    host=$(hostname -s)
    # slurmd and slurmctld resolve the node name; a bare VM often cannot.
    if ! getent hosts "$host" >/dev/null; then
        say "adding $host to /etc/hosts"
        echo "127.0.1.1 $host" >>/etc/hosts
    fi
    # This machine as slurmd sees it, with RealMemory ~5% lower (slurmd refuses to register a
    # node that has less memory than the configuration claims).
    node=$(slurmd -C | head -n1)
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
    node=${node/RealMemory=$mem/RealMemory=$((mem * 95 / 100))}
    mkdir -p "$DIR/state" "$DIR/spool"
    cat >"$CONF" <<EOF
# Written by scripts/slurm_cluster.sh: a one-node test cluster, daemons and jobs as root.
ClusterName=hepflows
SlurmctldHost=$host
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
# No cgroups, no systemd: plain process tracking.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
# No slurmdbd: sacct does not work here (use squeue for job states).
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default a job without --mem takes the whole node's memory.
DefMemPerCPU=500
MailProg=/bin/true
ReturnToService=2
# Finished jobs stay visible to squeue/scontrol this long (seconds; >= 3x the plugin's first
# status check); an hour, so that a test can check every job of a run afterwards.
MinJobAge=3600
SlurmctldTimeout=30
SlurmdTimeout=30
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
    if munge_works; then
        say "munged already runs; using it"
        return 0
    fi
    if [[ ! -s /etc/munge/munge.key ]]; then
        say "creating /etc/munge/munge.key"
        mkdir -p /etc/munge
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
        fi
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    rm -f /run/munge/munged.pid
    runuser -u munge -- munged || die 4 "munged did not start; see /var/log/munge/munged.log"
    for _ in $(seq 50); do
        [[ -s /run/munge/munged.pid ]] && munge_works && break
        sleep 0.1
    done
    munge_works || die 4 "munged does not answer; see /var/log/munge/munged.log"
    # Our own record of what we started (munged removes its PID file when it stops).
    cp /run/munge/munged.pid "$DIR/munged.pid"
}

start_daemon() { # NAME: start slurmctld/slurmd (they fork and write DIR/NAME.pid)
    local name=$1
    if live_pid "$name" >/dev/null; then
        say "$name already runs (pid $(live_pid "$name"))"
        return 0
    fi
    rm -f "$DIR/$name.pid"
    "$name" -f "$CONF" || die 4 "$name did not start; see $DIR/$name.log"
    for _ in $(seq 100); do
        live_pid "$name" >/dev/null && return 0
        sleep 0.1
    done
    die 4 "$name wrote no PID file; see $DIR/$name.log"
}

# srun inside a job finds no SLURM_CONF (see the top): give it our slurm.conf where it looks.
link_conf() {
    [[ -e /etc/slurm/slurm.conf ]] &&
        die 4 "/etc/slurm/slurm.conf exists: srun inside jobs would use that cluster, not this one"
    local link=/run/slurm/conf/slurm.conf
    if [[ -e $link || -L $link ]] && [[ $(readlink "$link") != "$CONF" ]]; then
        die 4 "$link exists and is not ours ($(readlink "$link" || echo 'a file'));" \
            "stop that cluster first"
    fi
    mkdir -p /run/slurm/conf
    ln -sfn "$CONF" "$link"
}

unlink_conf() {
    local link=/run/slurm/conf/slurm.conf
    [[ -L $link && $(readlink "$link") == "$CONF" ]] || return 0
    rm -f "$link"
    rmdir /run/slurm/conf /run/slurm 2>/dev/null || true
}

start() {
    ((EUID == 0)) || die 3 "needs root (installs packages, starts daemons as root)"
    mkdir -p "$DIR"
    chmod 0755 "$DIR"
    install_slurm
    write_conf
    link_conf
    local t0=$SECONDS
    start_munge
    start_daemon slurmctld
    start_daemon slurmd
    local state=""
    for _ in $(seq 300); do
        state=$(node_state)
        [[ $state == idle || $state == mixed || $state == allocated ]] && break
        # A node left down/drained from an earlier run: put it back in service.
        if [[ $state == down* || $state == drain* ]]; then
            scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true
        fi
        sleep 0.1
    done
    [[ $state == idle || $state == mixed || $state == allocated ]] ||
        die 4 "node not idle after 30 s (state '${state:-none}');" \
            "see $DIR/slurmctld.log, $DIR/slurmd.log"
    say "cluster up in $((SECONDS - t0)) s: $(sinfo -h -o '%P %D %c CPUs %m MB %T')"
    echo "export SLURM_CONF=$CONF"
}

stop_pid() { # NAME PID: TERM, wait up to 20 s, then KILL
    local name=$1 pid=$2
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    say "$name (pid $pid) ignored SIGTERM for 20 s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}

stop() {
    local pid t0=$SECONDS
    # Every job of this private cluster is a test's: cancel them so no step outlives slurmd.
    if live_pid slurmctld >/dev/null && [[ -f $CONF ]]; then
        local jobs
        jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
        if [[ -n ${jobs// /} ]]; then
            say "cancelling jobs $jobs"
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null || true
            for _ in $(seq 100); do
                [[ -z $(squeue -h -t running,completing -o %A 2>/dev/null) ]] && break
                sleep 0.1
            done
        fi
    fi
    for name in slurmd slurmctld munged; do
        if pid=$(live_pid "$name"); then
            say "stopping $name (pid $pid)"
            stop_pid "$name" "$pid"
        fi
        rm -f "$DIR/$name.pid"
    done
    unlink_conf
    say "stopped in $((SECONDS - t0)) s"
}

status() {
    local pid rc=0
    for name in munged slurmctld slurmd; do
        if pid=$(live_pid "$name"); then
            echo "$name: running (pid $pid)"
        else
            echo "$name: not started by this script"
            [[ $name == munged ]] || rc=1
        fi
    done
    if ((rc == 0)); then
        sinfo
    fi
    echo "export SLURM_CONF=$CONF"
    return "$rc"
}

case $cmd in
start) start ;;
stop) stop ;;
status) status ;;
*) die 2 "usage: $0 start|status|stop [DIR]  (DIR: \$HEPFLOWS_SLURM_DIR or /tmp/hepflows-slurm)" ;;
esac
