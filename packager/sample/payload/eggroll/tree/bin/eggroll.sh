#!/bin/bash
# FATE SAMPLE STAND-IN -- eggroll 2.0.2's bin/eggroll.sh with the same usage and java
# command lines: eggroll.sh all|clustermanager|nodemanager|rollsite start|stop|status|restart
# (and "starting", which stays in the foreground for supervisor/systemd).
cwd=$(cd "$(dirname "$0")/.." && pwd)
export EGGROLL_HOME=${EGGROLL_HOME:-$cwd}
cd "$EGGROLL_HOME" || exit 1
conf=$EGGROLL_HOME/conf/eggroll.properties
logs=$EGGROLL_HOME/logs/eggroll
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
get_property() { sed -n "s/^$1=//p" "$conf" | tail -1; }

command_of() {
    local tag
    tag=$(get_property eggroll.resourcemanager.process.tag)
    tag=${tag:-EGGROLL_DAEMON}
    case $1 in
    clustermanager)
        echo "$JAVA -Dlog4j.configurationFile=$EGGROLL_HOME/conf/log4j2.properties -cp $EGGROLL_HOME/lib/*: com.webank.eggroll.core.Bootstrap --bootstraps com.webank.eggroll.core.resourcemanager.ClusterManagerBootstrap -c $conf -p $(get_property eggroll.resourcemanager.clustermanager.port) -s $tag" ;;
    nodemanager)
        echo "$JAVA -Dlog4j.configurationFile=$EGGROLL_HOME/conf/log4j2.properties -cp $EGGROLL_HOME/lib/*: com.webank.eggroll.core.Bootstrap --bootstraps com.webank.eggroll.core.resourcemanager.NodeManagerBootstrap -c $conf -p $(get_property eggroll.resourcemanager.nodemanager.port) -s $tag" ;;
    rollsite)
        echo "$JAVA -Dlog4j.configurationFile=$EGGROLL_HOME/conf/log4j2.properties -cp $EGGROLL_HOME/lib/*:$EGGROLL_HOME/conf/ com.webank.eggroll.rollsite.Proxy -c $conf" ;;
    *) echo "usage: $0 all|clustermanager|nodemanager|rollsite start|stop|status|restart|starting" >&2; exit 2 ;;
    esac
}
pid_of() { pgrep -f "$(command_of "$1" | sed 's/[*]/[*]/g')" | head -1; }

action() {
    local module=$1 cmd pid
    cmd=$(command_of "$module") || exit 2
    mkdir -p "$logs"
    case $2 in
    start)
        pid=$(pid_of "$module")
        if [ -n "$pid" ]; then echo "$module already running, pid $pid"; return 0; fi
        $cmd >> "$logs/bootstrap.$module.out" 2>> "$logs/bootstrap.$module.err" &
        echo "$module started, pid $!" ;;
    starting)
        exec $cmd >> "$logs/bootstrap.$module.out" 2>> "$logs/bootstrap.$module.err" ;;
    stop)
        pid=$(pid_of "$module")
        if [ -n "$pid" ]; then kill "$pid"; echo "$module stopped, pid $pid"; else echo "$module not running"; fi ;;
    status)
        pid=$(pid_of "$module")
        if [ -n "$pid" ]; then echo "$module running, pid $pid"; else echo "$module not running"; return 1; fi ;;
    restart)
        action "$module" stop; sleep 1; action "$module" start ;;
    *) echo "usage: $0 all|clustermanager|nodemanager|rollsite start|stop|status|restart|starting" >&2; exit 2 ;;
    esac
}

if [ "$1" = all ]; then
    for m in clustermanager nodemanager rollsite; do action $m "$2"; done
else
    action "$1" "$2"
fi
