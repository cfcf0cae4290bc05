# Shared by bench/run and bench/profile (sourced, not executed).
#
# Sets ROOT, BUILD, WORK; provides:
#   lfb_fail MSG            print and exit 2
#   lfb_prereqs             check the tools; exit 2 with what to install
#   lfb_build [TARGET...]   configure + build build-bench (Release, bench on);
#                           default targets: lf_bench_inproc lf_bench_exchange
#   lfb_certs               test CA + 127.0.0.1 server cert in $WORK (openssl CLI)
#   lfb_start_nginx N       N single-worker nginx on one port; sets URL, TOKEN,
#                           PORT, WORKERS (comma-separated worker pids),
#                           STATUS_URLS (each instance's stub_status, plain HTTP)
# and an EXIT trap that stops every nginx it started and removes $WORK.

LFB_NAME=${LFB_NAME:-bench}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${LF_BENCH_BUILD:-$ROOT/build-bench}
NGINX_PIDS=()

lfb_fail() { echo "bench/$LFB_NAME: $*" >&2; exit 2; }

lfb_prereqs() {
    command -v nginx >/dev/null 2>&1 ||
        lfb_fail "nginx is not installed (scripts/deps.sh bench installs it); the exchange benchmark needs it"
    local tool
    for tool in openssl python3 cmake ninja pkg-config curl; do
        command -v "$tool" >/dev/null 2>&1 || lfb_fail "$tool is not installed"
    done
    pkg-config --exists benchmark ||
        lfb_fail "Google Benchmark is not installed (scripts/deps.sh bench installs it)"
}

lfb_cleanup() {
    local pid
    for pid in "${NGINX_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${NGINX_PIDS[@]}"; do
        # Bounded wait: nginx stops its worker and exits on TERM.
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ -n "${WORK:-}" ]]; then
        if [[ "${LF_BENCH_KEEP:-0}" == 1 ]]; then
            echo "bench/$LFB_NAME: kept $WORK" >&2
        else
            rm -rf "$WORK"
        fi
    fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lf-bench.XXXXXX")
trap lfb_cleanup EXIT
trap 'exit 130' INT TERM

lfb_build() {
    echo "== build ($BUILD)" >&2
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLF_BUILD_BENCH=ON \
        -DBUILD_TESTING=OFF -DLF_BUILD_TOOLS=OFF >"$WORK/cmake.log" 2>&1 ||
        { cat "$WORK/cmake.log" >&2; lfb_fail "configure failed"; }
    local targets=("$@")
    ((${#targets[@]})) || targets=(lf_bench_inproc lf_bench_exchange)
    cmake --build "$BUILD" -j2 --target "${targets[@]}" >"$WORK/build.log" 2>&1 ||
        { tail -40 "$WORK/build.log" >&2; lfb_fail "build failed"; }
    INPROC=$BUILD/bench/lf_bench_inproc
    EXCHANGE=$BUILD/bench/lf_bench_exchange
    DUDECT=$BUILD/bench/lf_dudect
}

lfb_certs() {
    (
        cd "$WORK"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -keyout ca.key -out ca.pem -subj "/CN=lf-bench test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
        printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile server.ext -out server.pem
    ) >"$WORK/openssl.log" 2>&1 || { cat "$WORK/openssl.log" >&2; lfb_fail "certificate generation failed"; }
    # A system-sized CA file (the system bundle plus the test CA) for the cold
    # runs: what a deployment that uses the system store loads per handshake.
    BUNDLE=""
    if [[ -r /etc/ssl/certs/ca-certificates.crt ]]; then
        cat /etc/ssl/certs/ca-certificates.crt "$WORK/ca.pem" >"$WORK/bundle.pem"
        BUNDLE=$WORK/bundle.pem
    fi
}

# One single-worker nginx per client thread. All instances listen on the same
# port with SO_REUSEPORT (one lf_auth has one token_url, so its threads cannot
# be sent to different ports); the kernel spreads the connections over the
# instances. Instance i is pinned to CPU i mod nproc with taskset when present.
lfb_start_nginx() {
    local count=$1 i d cpu ncpu
    ncpu=$(nproc)
    # A free port followed by COUNT free ports (one status port per instance).
    PORT=$(python3 - "$count" <<'PY'
import socket, sys
n = int(sys.argv[1])
for _ in range(200):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    held = [s]
    try:
        for k in range(1, n + 1):
            t = socket.socket()
            held.append(t)
            t.bind(("127.0.0.1", p + k))
    except OSError:
        continue
    finally:
        for t in held:
            t.close()
    print(p)
    break
else:
    sys.exit("no free run of ports")
PY
)
    STATUS_URLS=$(for i in $(seq 0 $((count - 1))); do echo "http://127.0.0.1:$((PORT + 1 + i))/status"; done | paste -sd, -)
    TOKEN=lfbench_$(openssl rand -hex 28)
    for i in $(seq 0 $((count - 1))); do
        d=$WORK/nginx$i
        mkdir -p "$d/logs" "$d/tmp"
        cat >"$d/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    keepalive_timeout 300s;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$PORT ssl reuseport;
        ssl_certificate $WORK/server.pem;
        ssl_certificate_key $WORK/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /oauth/access_token {
            default_type application/json;
            return 200 '{"access_token":"$TOKEN","token_type":"bearer","scope":"products,orders"}';
        }
        location / { return 404; }
    }
    # Plain-HTTP status of this instance alone: lf_bench_exchange reads its
    # "Active connections" to check how the client connections were spread.
    server {
        listen 127.0.0.1:$((PORT + 1 + i));
        location = /status { stub_status; }
    }
}
EOF
        cpu=$((i % ncpu))
        if command -v taskset >/dev/null 2>&1; then
            taskset -c "$cpu" nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" &
        else
            nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" &
        fi
        NGINX_PIDS+=("$!")
    done
    URL=https://127.0.0.1:$PORT/oauth/access_token
    local ready=0 pid
    for _ in $(seq 100); do
        if [[ "$(curl -s --max-time 2 --cacert "$WORK/ca.pem" -d '{}' "$URL" 2>/dev/null)" == *"$TOKEN"* ]]; then
            ready=1
            break
        fi
        sleep 0.1
    done
    ((ready)) || { cat "$WORK"/nginx*/logs/error.log >&2 || true; lfb_fail "nginx did not answer on $URL within 10 s"; }
    for pid in "${NGINX_PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null ||
            { cat "$WORK"/nginx*/logs/error.log >&2 || true; lfb_fail "an nginx instance exited"; }
    done
    # The worker processes (children of each master), whose CPU is reported.
    WORKERS=$(for pid in "${NGINX_PIDS[@]}"; do pgrep -P "$pid" || true; done | paste -sd, -)
    [[ -n "$WORKERS" ]] || lfb_fail "could not find the nginx worker processes"
}
