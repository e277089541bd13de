# Shared helpers of the peer scripts (sourced, not run).

# stop_pid PIDFILE [TENTHS]: TERM the process whose PID is in PIDFILE, wait up to
# TENTHS tenths of a second (default 300) for it to exit, then KILL it; remove PIDFILE.
stop_pid() {
	local pidfile=$1 tenths=${2:-300} pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq "$tenths"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}
