# Sourced by tests and benchmarks that need a ClickHouse server: starts
# Debian's clickhouse-server on loopback, on free ports, with its data and a
# temporary config in ./clickhouse, stopped when the test ends.  Sets CH_URL
# (the default user) and CH_AUTH_URL (user dfprof, password secret).

# ch_sql SQL [URL]: runs a statement over HTTP (python3's urllib), prints the answer
ch_sql() {
	python3 - "$1" "${2:-$CH_URL}" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[2], data=sys.argv[1].encode())
try:
    sys.stdout.write(urllib.request.urlopen(req, timeout=30).read().decode())
except Exception as e:
    body = e.read().decode() if hasattr(e, "read") else str(e)
    sys.stderr.write(body)
    sys.exit(1)
PY
}

start_clickhouse() {
	local server http tcp dir=$PWD/clickhouse
	server=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
	[ -x "$server" ] || skip "clickhouse-server not found (Debian package clickhouse-server)"
	http=$(free_port) && tcp=$(free_port) || fail "no free port"
	mkdir -p "$dir/data" "$dir/tmp"
	cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <users_config>$dir/users.xml</users_config>
  <mark_cache_size>67108864</mark_cache_size>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
</yandex>
XML
	cat > "$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <dfprof><password>secret</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></dfprof>
  </users>
  <quotas><default></default></quotas>
</yandex>
XML
	"$server" --config-file="$dir/config.xml" >"$dir/stdout" 2>&1 &
	CH_PID=$!
	cleanup_hooks="kill $CH_PID 2>/dev/null; wait $CH_PID 2>/dev/null; $cleanup_hooks"
	CH_URL="http://127.0.0.1:$http/"
	CH_AUTH_URL="http://dfprof:secret@127.0.0.1:$http/"
	for _ in $(seq 1 150); do
		ch_sql 'SELECT 1' >/dev/null 2>&1 && return 0
		kill -0 "$CH_PID" 2>/dev/null || fail "clickhouse-server exited: $(tail -5 "$dir/error.log" "$dir/stdout" 2>/dev/null)"
		sleep 0.2
	done
	fail "clickhouse-server did not answer on $CH_URL in 30 s"
}
