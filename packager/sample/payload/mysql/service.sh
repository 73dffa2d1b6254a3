#!/bin/bash
# FATE SAMPLE STAND-IN -- service.sh shipped with FATE 1.4.5's MySQL (copied to the MySQL
# home): start|stop|status|restart through bin/mysqld_safe with conf/my.cnf.
basedir=$(cd "$(dirname "$0")" && pwd)
conf=$basedir/conf/my.cnf
pidfile=$(sed -n 's/^pid-file=//p' "$conf" | tail -1)
pidfile=${pidfile:-$basedir/run/mysqld.pid}
getpid() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"; }
case $1 in
    start)
        pid=$(getpid); [ -n "$pid" ] && { echo "mysql already started. pid: $pid"; exit 0; }
        mkdir -p "$basedir/logs"
        nohup "$basedir/bin/mysqld_safe" --defaults-file="$conf" --user="${MYSQL_USER:-app}" >> "$basedir/logs/mysqld.log" 2>&1 &
        echo "mysql start sucessfully" ;;
    stop)
        pid=$(getpid); [ -n "$pid" ] && kill "$pid" && echo "killed $pid" || echo "mysql not running" ;;
    status)
        pid=$(getpid); [ -n "$pid" ] && echo "status: running, pid $pid" || { echo "mysql not running"; exit 1; } ;;
    restart)
        "$0" stop; sleep 3; "$0" start ;;
    *) echo "usage: $0 {start|stop|status|restart}"; exit 2 ;;
esac
