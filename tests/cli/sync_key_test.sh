# tests/cli/sync_key_test.sh - an office configured with the wrong server
# key: every handshake fails (the server cannot read it), which on a poor
# link also happens to a good key now and then, so sync keeps trying until
# --timeout and then names the likely cause, exit 1; nothing changes.
. "$CS_TEST_LIB"
need_sync_tools

hub_setup
other=$(srv init "$TMP/other" --listen "tcp://127.0.0.1:$(free_port)" 2>/dev/null) ||
    fail "a second server"
[ "$other" != "$HUB_KEY" ] || fail "two servers with one key"
node_setup isf site ISF
sed -i "s|^server_key = .*|server_key = $other|" "$TMP/isf/config"
grep -q "^server_key = $other" "$TMP/isf/config" || fail "config: $(cat "$TMP/isf/config")"
hub_start
before=$(dump_db "$TMP/isf")
cs -C "$TMP/isf" sync --quiet --timeout 3 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 1 ] || fail "sync with the wrong server key exited $rc: $(cat "$TMP/err")"
grep -q "every handshake with .* failed (.* tries in 3 s): is the server key in .*/config (server_key) the server's identity?" \
    "$TMP/err" || fail "no hint at the key: $(cat "$TMP/err")"
[ "$(dump_db "$TMP/isf")" = "$before" ] || fail "a failed sync changed the replica"
