#!/bin/bash
# FATE SAMPLE STAND-IN -- fate_flow/service.sh of FATE 1.4.5: start|stop|status|restart,
# and "starting" (foreground, for supervisor/systemd).
PROJECT_BASE=$(cd "$(dirname "$0")/.." && pwd)
source "$(dirname "$PROJECT_BASE")/init_env.sh" 2>/dev/null || true
export PYTHONPATH=${PYTHONPATH:-$PROJECT_BASE:${EGGROLL_HOME:-/data/projects/fate/eggroll}/python}
log_dir=$PROJECT_BASE/logs
mkdir -p "$log_dir"
server=$PROJECT_BASE/fate_flow/fate_flow_server.py
getpid() { pgrep -f "python $server" | head -1; }
case $1 in
    start)
        pid=$(getpid); [ -n "$pid" ] && { echo "service already started. pid: $pid"; exit 0; }
        nohup python "$server" >> "$log_dir/console.log" 2>> "$log_dir/error.log" &
        echo "service start sucessfully. pid: $!" ;;
    starting)
        exec python "$server" >> "$log_dir/console.log" 2>> "$log_dir/error.log" ;;
    stop)
        pid=$(getpid); [ -n "$pid" ] && kill "$pid" && echo "killed $pid" || echo "service not running" ;;
    status)
        pid=$(getpid); [ -n "$pid" ] && echo "status: running, pid $pid" || { echo "service not running"; exit 1; } ;;
    restart)
        "$0" stop; sleep 1; "$0" start ;;
    *) echo "usage: $0 {start|stop|status|restart|starting}"; exit 2 ;;
esac
