# Sourced by the bench scripts: ports nobody else holds, servers that are the ones answering,
# and load runs in which every answer was 2xx. A run that cannot promise all three stops with
# a message instead of printing figures (a held port once had load.sh measure another
# process's 404s as the baseline).

# True when some socket listens on TCP port $1 (IPv4 or IPv6).
port_listening() {
    [ -n "$(listener_inodes "$1")" ]
}

# The socket inodes listening on TCP port $1.
listener_inodes() {
    local hex
    hex="$(printf ':%04X' "$1")"
    awk -v port="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == port { print $10 }' \
        /proc/net/tcp /proc/net/tcp6
}

# Sets the variable named $1 to a free port: the one the environment gave it (refused when
# something listens there), else one the kernel picks.
pick_port() {
    local name="$1" port="${!1:-}"
    if [ -n "$port" ]; then
        if port_listening "$port"; then
            echo "port $port ($name) is already in use; free it or set $name to another port" >&2
            exit 1
        fi
    else
        port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    fi
    printf -v "$name" '%s' "$port"
}

# True when process $1 holds every socket listening on port $2 (and there is at least one).
owns_listener() {
    local pid="$1" port="$2" inodes inode fds
    inodes="$(listener_inodes "$port")"
    [ -n "$inodes" ] || return 1
    fds="$(ls -l "/proc/$pid/fd" 2>/dev/null)" || return 1
    for inode in $inodes; do
        grep -q "socket:\[$inode\]" <<<"$fds" || return 1
    done
}

# Fails unless process $2 (called $1) is alive and alone listens on port $3.
check_server() {
    local name="$1" pid="$2" port="$3"
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "$name (pid $pid) is no longer running" >&2
        exit 1
    fi
    if ! owns_listener "$pid" "$port"; then
        echo "port $port is not (only) $name's (pid $pid): another process answers there" >&2
        exit 1
    fi
}

# Waits until process $2 (called $1) listens on port $3 and $4 answers 2xx; fails, showing
# the tail of log $5 when given, if the process exits or never answers.
wait_for_server() {
    local name="$1" pid="$2" port="$3" url="$4" log="${5:-}"
    for _ in $(seq 1 150); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name (pid $pid) exited before answering on port $port" >&2
            if [ -n "$log" ]; then tail -n 20 "$log" >&2; fi
            exit 1
        fi
        if owns_listener "$pid" "$port" && curl -sf -o /dev/null "$url"; then
            return 0
        fi
        sleep 0.2
    done
    echo "$name (pid $pid) did not answer $url within 30 s" >&2
    exit 1
}

# One request as the load run will send it (curl arguments after $1) must answer 2xx: wrk
# counts only statuses above 399, so this also catches a redirect.
expect_2xx() {
    local what="$1" status
    shift
    status="$(curl -s -o /dev/null -w '%{http_code}' "$@")"
    case "$status" in
        2??) ;;
        *) echo "$what answered $status, not 2xx: refusing to measure it" >&2; exit 1 ;;
    esac
}

# Fails when wrk's output $1 (of the run called $2) shows any answer outside 2xx (wrk's
# "Non-2xx or 3xx responses", or the status counters of our Lua scripts), connection
# failures, or no requests at all.
check_wrk() {
    local file="$1" what="$2" line
    if line="$(grep -E 'Non-2xx or 3xx responses' "$file")"; then
        echo "$what: $(xargs <<<"$line"); the figures are void" >&2
        exit 1
    fi
    if line="$(grep -E '^answers outside 2xx: [1-9]' "$file")"; then
        echo "$what: $line; the figures are void" >&2
        exit 1
    fi
    if line="$(grep -E 'Socket errors: connect [1-9]' "$file")"; then
        echo "$what: $(xargs <<<"$line"); the figures are void" >&2
        exit 1
    fi
    if ! awk '/requests in/ { found = ($1 > 0) } END { exit !found }' "$file"; then
        echo "$what: wrk sent no request" >&2
        exit 1
    fi
}
