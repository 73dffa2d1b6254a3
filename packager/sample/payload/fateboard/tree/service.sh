#!/bin/bash
# FATE SAMPLE STAND-IN -- fateboard's service.sh (1.4.x): start|stop|status|restart, and
# "starting" (foreground, for supervisor/systemd). Needs JAVA_HOME (the bundled JDK).
basepath=$(cd "$(dirname "$0")" && pwd)
cd "$basepath" || exit 1
fate_base=$(dirname "$basepath")
[ -f "$fate_base/init_env.sh" ] && source "$fate_base/init_env.sh"
JAVA=${JAVA_HOME:?JAVA_HOME must point at the JDK}/bin/java
cmd="$JAVA -Dspring.config.location=$basepath/conf/application.properties -DFATE_DEPLOY_PREFIX=$fate_base/logs/ -Dssh_config_file=$basepath/ssh/ -Xmx2048m -Xms2048m -XX:+PrintGCDetails -XX:+PrintGCDateStamps -Xloggc:gc.log -XX:+HeapDumpOnOutOfMemoryError -jar $basepath/fateboard.jar"
getpid() { pgrep -f "fateboard.jar" | head -1; }
mkdir -p logs
case $1 in
    start)
        pid=$(getpid); [ -n "$pid" ] && { echo "service already started. pid: $pid"; exit 0; }
        nohup $cmd >> logs/console.log 2>> logs/error.log &
        echo "service start sucessfully. pid: $!" ;;
    starting)
        exec $cmd >> logs/console.log 2>> logs/error.log ;;
    stop)
        pid=$(getpid); [ -n "$pid" ] && kill "$pid" && echo "killed $pid" || echo "service not running" ;;
    status)
        pid=$(getpid); [ -n "$pid" ] && echo "status: running, pid $pid" || { echo "service not running"; exit 1; } ;;
    restart)
        "$0" stop; sleep 1; "$0" start ;;
    *) echo "usage: $0 {start|stop|status|restart|starting}"; exit 2 ;;
esac
