# tests/cli/lablib.sh - the link lab: a server and offices in network
# namespaces joined by shaped links (issue 6).  Sourced by lab tests after
# lib.sh; needs root, ip (iproute2), tc and nft (nftables).  Where it cannot
# run it says why and the test skips (exit 77).
#
#   lab_init                     checks what the lab needs; creates the
#                                server's namespace; removes everything the
#                                lab made when the test ends, pass or fail
#   lab_office N                 an office namespace joined to the server's
#                                by a veth pair, shaped (see the knobs):
#                                the office reaches the server at
#                                $(lab_server_ip N); N is 1..250
#   lab_in NS CMD...             runs CMD in namespace NS ($LAB_SRV or
#                                $(lab_ns N))
#   lab_drops N                  takes office N's link down for
#                                LAB_DOWN_S seconds every LAB_EVERY_S
#                                seconds, in the background, until the end
#   lab_proxy N PORT [ARGS...]   starts cs-faultproxy in office N's
#                                namespace, adding LAB_RTT_MS of round trip
#                                in front of the server's PORT (ARGS: more
#                                of its options, e.g. cuts); prints the
#                                local endpoint the office connects to
#
# Knobs (environment), defaults as in the issue:
#   LAB_RATE     bandwidth each way          64kbit
#   LAB_LOSS     % of packets dropped each way   3
#   LAB_RTT_MS   added round trip (ms)       300
#   LAB_EVERY_S, LAB_DOWN_S   link drops     60, 10
#
# Shaping: tbf on both ends of each veth (MTU 1500: tbf needs a burst of
# at least one packet); loss: nftables in the office namespace,
# `numgen random mod 100 < LOSS drop` on input and output (tcp only, so
# the lab's own control traffic is spared); latency: a userspace proxy
# (this kernel has no netem), whose delay applies to each direction.

LAB_RATE=${LAB_RATE:-64kbit}
LAB_LOSS=${LAB_LOSS:-3}
LAB_RTT_MS=${LAB_RTT_MS:-300}
LAB_EVERY_S=${LAB_EVERY_S:-60}
LAB_DOWN_S=${LAB_DOWN_S:-10}
LAB_ID=cl$$
LAB_SRV=${LAB_ID}s
LAB_NS_LIST=
LAB_PIDS=

lab_skip() {
    echo "SKIP: the link lab cannot run here: $*"
    exit 77
}

lab_cleanup() {
    local p ns
    for p in $LAB_PIDS; do
        kill "$p" 2>/dev/null
    done
    for p in $LAB_PIDS; do
        wait "$p" 2>/dev/null
    done
    for ns in $LAB_NS_LIST; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    LAB_NS_LIST=
}

lab_init() {
    [ "$(id -u)" = 0 ] || lab_skip "it needs root"
    command -v ip >/dev/null || lab_skip "no ip (iproute2)"
    command -v tc >/dev/null || lab_skip "no tc (iproute2)"
    command -v nft >/dev/null || lab_skip "no nft (nftables)"
    ip netns add "$LAB_SRV" 2>/dev/null || lab_skip "cannot create a network namespace"
    LAB_NS_LIST="$LAB_SRV"
    # lib.sh's cleanup runs on EXIT; chain ours before it.
    trap 'lab_cleanup; cleanup' EXIT
    ip -n "$LAB_SRV" link set lo up || fail "lab: lo up"
}

lab_ns() { echo "${LAB_ID}o$1"; }
lab_server_ip() { echo "10.201.$1.1"; }
lab_office_ip() { echo "10.201.$1.2"; }

lab_in() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# lab_shape DEV NS: tbf at LAB_RATE on DEV in namespace NS.
lab_shape() {
    ip -n "$2" link set dev "$1" mtu 1500 || fail "lab: mtu $1"
    tc -n "$2" qdisc add dev "$1" root tbf rate "$LAB_RATE" burst 4kb \
        latency 2000ms || fail "lab: tbf on $1"
}

lab_office() {
    local n=$1 ns s o
    ns=$(lab_ns "$n")
    s=${LAB_ID}a$n
    o=${LAB_ID}b$n
    ip netns add "$ns" || fail "lab: netns $ns"
    LAB_NS_LIST="$LAB_NS_LIST $ns"
    ip -n "$ns" link set lo up
    ip link add "$s" netns "$LAB_SRV" type veth peer name "$o" netns "$ns" ||
        fail "lab: veth for office $n"
    ip -n "$LAB_SRV" addr add "$(lab_server_ip "$n")/24" dev "$s"
    ip -n "$ns" addr add "$(lab_office_ip "$n")/24" dev "$o"
    ip -n "$LAB_SRV" link set "$s" up
    ip -n "$ns" link set "$o" up
    lab_shape "$s" "$LAB_SRV"
    lab_shape "$o" "$ns"
    if [ "$LAB_LOSS" -gt 0 ]; then
        ip netns exec "$ns" nft -f - <<EOF || fail "lab: nftables loss"
table inet cslab {
    chain in { type filter hook input priority 0; policy accept;
        iifname "$o" meta l4proto tcp numgen random mod 100 < $LAB_LOSS drop; }
    chain out { type filter hook output priority 0; policy accept;
        oifname "$o" meta l4proto tcp numgen random mod 100 < $LAB_LOSS drop; }
}
EOF
    fi
}

# lab_hub_start: runs the server ($HUB, port $HUB_PORT) in the server's
# namespace, sets HUB_PID, and waits until it serves.
lab_hub_start() {
    local i
    CIGSYNC_LOG=info ip netns exec "$LAB_SRV" "$CIGSYNC_SERVER" run "$HUB" \
        --listen "tcp://0.0.0.0:$HUB_PORT" >>"$TMP/hub.log" 2>&1 &
    HUB_PID=$!
    for i in $(seq 100); do
        grep -q "serving on" "$TMP/hub.log" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "the server did not start: $(cat "$TMP/hub.log")"
}

lab_drops() {
    local n=$1 ns o
    ns=$(lab_ns "$n")
    o=${LAB_ID}b$n
    (
        while sleep "$LAB_EVERY_S"; do
            ip -n "$ns" link set "$o" down 2>/dev/null || exit 0
            sleep "$LAB_DOWN_S"
            ip -n "$ns" link set "$o" up 2>/dev/null || exit 0
        done
    ) &
    LAB_PIDS="$LAB_PIDS $!"
}

lab_proxy() {
    local n=$1 port=$2 ns pf i
    shift 2
    ns=$(lab_ns "$n")
    pf=$TMP/proxy$n.port
    rm -f "$pf"
    ip netns exec "$ns" "$CS_FAULTPROXY" --listen 127.0.0.1:0 \
        --to "$(lab_server_ip "$n"):$port" --port-file "$pf" \
        --delay-ms $((LAB_RTT_MS / 2)) --stats "$TMP/proxy$n.stats" "$@" \
        >"$TMP/proxy$n.log" 2>&1 &
    LAB_PIDS="$LAB_PIDS $!"
    for i in $(seq 100); do
        [ -s "$pf" ] && break
        sleep 0.05
    done
    [ -s "$pf" ] || fail "lab: the proxy did not start: $(cat "$TMP/proxy$n.log")"
    echo "tcp://127.0.0.1:$(cat "$pf")"
}
