#!/bin/bash
# preflight.sh - fate-deploy's read-only checks of one party host, before any host is
# changed (ansible's `script` module runs it as root). The seed's system checks
# (ansible-nfate 4.2 / 4.5) plus what breaks FATE later: the host name must resolve
# (fate_flow dies otherwise, FATE#768), enough disk for the bundle and the RPMs.
# Output: one finding per line, "error: ...", "warning: ..." or "ok: ..."; exit 0 (a probe
# that cannot run is "|| true": the finding it would make is what matters).
# bash 4.2 (CentOS 7): no namerefs, no ${x@Q}, no wait -n.
set -euo pipefail

ports=""
account=app
need_kib=0
dest=/var/lib/fate-deploy
mysql=0
while [ $# -gt 0 ]; do
    case "$1" in
        --ports) ports=$2; shift ;;
        --account) account=$2; shift ;;
        --need-kib) need_kib=$2; shift ;;
        --dest) dest=$2; shift ;;
        --mysql) mysql=$2; shift ;;
        *) echo "error: preflight.sh: unknown argument $1"; exit 0 ;;
    esac
    shift
done

err() { echo "error: $*"; }
warn() { echo "warning: $*"; }
ok() { echo "ok: $*"; }

# The unit a process belongs to (fate-*.service when it is one of ours), from its cgroup.
unit_of() {
    { sed -n 's|.*/\([^/]*\.service\)$|\1|p' "/proc/$1/cgroup" | head -1; } 2>/dev/null || true
}

if [ "$(id -u)" -ne 0 ]; then
    err "not root after become (user $(id -un)): give the ssh user passwordless sudo," \
        "as the seed's /etc/sudoers.d/app does, or set ansible_become_pass"
    exit 0
fi
ok "root through $(if [ -n "${SUDO_USER:-}" ]; then echo "sudo from $SUDO_USER"; else echo "a root login"; fi)"

installed=0
if rpm -q fate-common >/dev/null 2>&1; then installed=1; fi

# Ports of this host's services: free, or held by our own unit (a re-run).
for port in $ports; do
    line=$(ss -tlnp 2>/dev/null | awk -v p=":$port" '$4 ~ p"$" { print; exit }' || true)
    [ -n "$line" ] || continue
    pid=$(echo "$line" | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
    proc=$(echo "$line" | sed -n 's/.*users:(("\([^"]*\)".*/\1/p')
    unit=""
    if [ -n "$pid" ]; then unit=$(unit_of "$pid"); fi
    case "$unit" in
        fate-*.service) ok "port $port is $unit's" ;;
        *) err "port $port is in use by ${proc:-a process} (pid ${pid:-?}${unit:+, $unit}):" \
               "stop it (the seed: netstat -tlnp | grep $port)" ;;
    esac
done

# Leftover FATE processes that are not our units (an earlier ansible-nfate install).
leftover=()
for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [ "$pid" != "$$" ] || continue
    args=$( { tr '\0' ' ' < "$dir/cmdline"; } 2>/dev/null) || continue
    case "$args" in
        *preflight.sh*|"") continue ;;
        */data/projects/fate*|*eggroll*|*fate_flow*|*fateboard*) ;;
        *) continue ;;
    esac
    case "$(unit_of "$pid")" in fate-*.service) continue ;; esac
    leftover+=("$pid:${args:0:80}")
done
if [ ${#leftover[@]} -gt 0 ]; then
    err "FATE processes outside the fate units are running (${leftover[*]}): stop them" \
        "(supervisor programs with supervisorctl) before deploying"
fi

# Leftover trees and supervisor programs of an install that is not ours.
if [ "$installed" -eq 0 ]; then
    for path in /data/projects/fate /data/projects/data/fate/mysql; do
        if [ -e "$path" ]; then
            err "$path exists but fate-common is not installed (an earlier install):" \
                "move it away (mv $path $path.old)"
        fi
    done
fi
programs=""
for conf in /data/projects/common/supervisord/supervisord.d/fate-*.conf; do
    if [ -e "$conf" ]; then programs="$programs $conf"; fi
done
if [ -n "$programs" ]; then
    err "supervisor programs of an earlier install:$programs; stop them and move them away"
fi
if [ "$mysql" = 1 ] && [ -e /etc/my.cnf ]; then
    warn "/etc/my.cnf exists: FATE's MySQL reads only its own my.cnf; if a MySQL from an" \
         "earlier install still runs, stop it and rename /etc/my.cnf (the seed's advice)"
fi

below() { [ "$1" != unlimited ] && [ "$1" -lt 65535 ] 2>/dev/null; }

# Limits of the service account (the units set their own; a login shell does not).
if id "$account" >/dev/null 2>&1; then
    limits=$(su -s /bin/bash "$account" -c 'ulimit -n; ulimit -u' 2>/dev/null | tr '\n' ' ' || true)
    read -r nofile nproc <<<"$limits"
    if below "${nofile:-0}" || below "${nproc:-0}"; then
        warn "$account: ulimit -n ${nofile:-?}, -u ${nproc:-?} (below 65535): the FATE units" \
             "raise their own limits; shells of $account (toy example, tools) do not"
    fi
fi

swap=$(awk 'NR > 1 { s += $3 } END { print s + 0 }' /proc/swaps 2>/dev/null)
if [ "${swap:-0}" -eq 0 ]; then
    warn "no swap: the seed asks for 128G of swap for production (cat /proc/swaps)"
fi

name=$(hostname 2>/dev/null || true)
if [ -z "$name" ] || ! getent hosts "$name" >/dev/null 2>&1; then
    err "the host name '${name}' does not resolve: fate_flow dies on such a host (FATE#768);" \
        "add '<address> $name' to /etc/hosts"
else
    ok "host name $name resolves"
fi

# Disk: the bundle copy under $dest and the installed RPMs under /data (or what holds it).
free_kib() {
    local p=$1
    while [ ! -e "$p" ]; do p=$(dirname "$p"); done
    df -Pk "$p" 2>/dev/null | awk 'NR == 2 { print $4 }' || echo 0
}
if [ -d "$dest" ]; then ok "dest $dest exists"; fi
for p in "$dest" /data; do
    free=$(free_kib "$p")
    if [ "${free:-0}" -lt "$need_kib" ]; then
        err "$p: ${free:-0} KiB free, the bundle and this host's RPMs need $need_kib KiB"
    fi
done

# The CPUs as fate-configure counts them (sysconf, online CPUs): the nodemanager hosts'
# smallest count sets eggroll.session.processors.per.node on every host.
ok "cpus $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 0)"

if ! command -v yum >/dev/null 2>&1 && ! command -v dnf >/dev/null 2>&1; then
    err "neither yum nor dnf is installed"
fi
ok "checked"
exit 0
