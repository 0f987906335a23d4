#!/usr/bin/env bash
# Make sure the local services that Ketenpoort's tests need are up.
#
#   scripts/ensure-services.sh rabbitmq postgresql [chromium] [go] [promtool] [asyncapi]
#
# For each service named:
#   - already up               -> one line on stderr, well under a second;
#   - installed but stopped    -> start it and wait until it answers;
#   - not installed            -> as root with apt-get: install it from Debian's
#                                 packages and start it; otherwise say what is
#                                 missing and exit 1.
# Never uses sudo. Safe to run any number of times.
#
# rabbitmq:   AMQP on 127.0.0.1:5672, user guest/guest (RabbitMQ's default,
#             which only works from localhost). If KETENPOORT_AMQP_URL is set to
#             a broker elsewhere, only that broker's host:port is checked.
# postgresql: 127.0.0.1:5432, database "test", user postgres, no password.
# chromium:   Debian's chromium and chromium-driver (/usr/bin/chromium,
#             /usr/bin/chromedriver), for browser tests.
# go:         Debian's golang-go and golang-golang-x-mod-dev (go on PATH,
#             golang.org/x/mod/sumdb under /usr/share/gocode), for the audit test that
#             checks checkpoints and proofs with Go's sumdb/note and sumdb/tlog (GOPATH
#             mode, no network).
# promtool:   Debian's prometheus package (/usr/bin/promtool), for `promtool test rules`
#             of deploy/prometheus/alerts.yml.
# asyncapi:   Node.js and npm (Debian's nodejs and npm) and the npm package
#             @asyncapi/parser at the version locked in scripts/asyncapi/, installed
#             with `npm ci` into .cache/node (project-local), for the test that
#             validates docs/asyncapi.yaml.
set -euo pipefail

readonly PROG=ensure-services
readonly WAIT_SECONDS=60
readonly LOG_DIR=${TMPDIR:-/tmp}

APT_UPDATED=0

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    say "$*"
    exit 1
}

usage() {
    cat >&2 <<'EOF'
usage: scripts/ensure-services.sh SERVICE...
services: rabbitmq, postgresql, chromium, go, promtool, asyncapi
EOF
}

# tcp_open HOST PORT: true when something accepts a TCP connection there (1 s limit).
tcp_open() {
    # shellcheck disable=SC2016 # $1 and $2 are expanded by the inner bash
    timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

is_root() { [[ $(id -u) -eq 0 ]]; }
can_apt() { is_root && command -v apt-get >/dev/null 2>&1; }

# apt_install PACKAGE...: runs `apt-get update` once per invocation of this script.
# apt's own output goes to a log that is shown only when it fails.
apt_install() {
    local log="$LOG_DIR/ketenpoort-apt-get.log"
    if [[ $APT_UPDATED -eq 0 ]]; then
        if ! apt-get -o DPkg::Lock::Timeout=300 update -qq >"$log" 2>&1; then
            tail -n 30 "$log" >&2 || true
            die "apt-get update failed (log: $log)"
        fi
        APT_UPDATED=1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
        install -y -qq "$@" >>"$log" 2>&1 </dev/null; then
        tail -n 30 "$log" >&2 || true
        die "apt-get install $* failed (log: $log)"
    fi
}

# ---------------------------------------------------------------- rabbitmq --

# Host and port of KETENPOORT_AMQP_URL (default 127.0.0.1 5672), printed as "HOST PORT".
# Never prints the URL itself: it may hold a password.
amqp_target() {
    local url=${KETENPOORT_AMQP_URL:-} rest host port default_port=5672
    if [[ -z $url ]]; then
        echo "127.0.0.1 5672"
        return
    fi
    [[ $url == amqps://* ]] && default_port=5671
    rest=${url#*://}
    rest=${rest%%/*}
    rest=${rest%%\?*}
    rest=${rest##*@}
    if [[ $rest == \[* ]]; then # [ipv6]:port
        host=${rest%%]*}
        host=${host#[}
        port=${rest#*]}
    else
        host=${rest%%:*}
        port=${rest#"$host"}
    fi
    port=${port#:}
    echo "${host:-127.0.0.1} ${port:-$default_port}"
}

rabbitmq_installed() { command -v rabbitmq-server >/dev/null 2>&1; }

# Start the local node (or only its app, when the Erlang node runs with the app
# stopped, as after `rabbitmqctl stop_app`) and wait until 5672 answers and the
# broker reports it has finished booting.
rabbitmq_start() {
    local log="$LOG_DIR/ketenpoort-rabbitmq-start.log" start=$SECONDS remaining
    : >"$log" 2>/dev/null || log=/dev/null
    # All three standard streams are redirected: a daemon that kept our stdout
    # (often a pipe to CI) open would make the caller wait for it forever.
    if rabbitmq-diagnostics -q ping </dev/null >>"$log" 2>&1; then
        say "rabbitmq node is running but not accepting AMQP; starting its app (rabbitmqctl start_app)"
        rabbitmqctl start_app </dev/null >>"$log" 2>&1 || true
    else
        say "rabbitmq is not running on 127.0.0.1:5672; starting it (rabbitmq-server -detached)"
        # Fails harmlessly when another start is already under way; we wait either way.
        rabbitmq-server -detached </dev/null >>"$log" 2>&1 || true
    fi
    while ! tcp_open 127.0.0.1 5672; do
        if ((SECONDS - start >= WAIT_SECONDS)); then
            tail -n 20 "$log" >&2 2>/dev/null || true
            die "RabbitMQ did not come up on 127.0.0.1:5672 within ${WAIT_SECONDS}s (see $log and /var/log/rabbitmq/)"
        fi
        sleep 0.5
    done
    remaining=$((WAIT_SECONDS - (SECONDS - start)))
    ((remaining < 10)) && remaining=10
    if ! timeout "$remaining" rabbitmqctl -q await_startup </dev/null >>"$log" 2>&1; then
        tail -n 20 "$log" >&2 2>/dev/null || true
        die "RabbitMQ answers on 127.0.0.1:5672 but 'rabbitmqctl await_startup' failed (see $log and /var/log/rabbitmq/)"
    fi
    # guest/guest is RabbitMQ's default user, allowed from localhost only; just check it.
    if ! rabbitmqctl -q authenticate_user guest guest </dev/null >>"$log" 2>&1; then
        say "warning: RabbitMQ is up but user guest/guest cannot log in; tests use amqp://guest:guest@127.0.0.1:5672/ unless KETENPOORT_AMQP_URL says otherwise"
    fi
    say "rabbitmq up on 127.0.0.1:5672 (started in $((SECONDS - start))s)"
}

# rabbitmq_responsive: the node answers a management command within 30 s (the tests
# create a vhost and users with rabbitmqctl). An open port alone is not enough: a node
# worn out by a long run (thousands of quorum queues created and deleted) can accept AMQP
# connections while every rabbitmqctl command hangs.
rabbitmq_responsive() {
    local log=$1
    timeout -k 5 30 rabbitmqctl -q list_vhosts </dev/null >>"$log" 2>&1
}

# Kill the local node's Erlang VM (after a polite stop that may itself hang).
rabbitmq_kill() {
    local log=$1
    timeout -k 5 30 rabbitmqctl -q stop </dev/null >>"$log" 2>&1 || true
    pkill -9 -u rabbitmq -f beam 2>/dev/null || true
    pkill -9 -f 'beam.*rabbit' 2>/dev/null || true
    local waited=0
    while tcp_open 127.0.0.1 5672 && ((waited < 20)); do
        sleep 1
        waited=$((waited + 1))
    done
}

# The port is open: check the node also answers rabbitmqctl. If it does not and this user
# may manage it (root or rabbitmq), restart it; under CI=true (a throw-away machine), if the
# restarted node still does not answer, reset it (rabbitmqctl force_reset: its vhosts,
# users and queues are gone) rather than let the test run hang on it.
rabbitmq_healthy_or_restart() {
    local log="$LOG_DIR/ketenpoort-rabbitmq-health.log"
    : >"$log" 2>/dev/null || log=/dev/null
    if ! command -v rabbitmqctl >/dev/null 2>&1 || rabbitmq_responsive "$log"; then
        say "rabbitmq up on 127.0.0.1:5672"
        return
    fi
    if ! is_root && [[ $(id -un) != rabbitmq ]]; then
        die "RabbitMQ accepts connections on 127.0.0.1:5672 but 'rabbitmqctl list_vhosts' does not answer within 30 s; restart it as root (rabbitmqctl stop; rabbitmq-server -detached) (see $log)"
    fi
    say "rabbitmq on 127.0.0.1:5672 does not answer rabbitmqctl within 30 s: restarting it"
    rabbitmq_kill "$log"
    rabbitmq_start
    rabbitmq_responsive "$log" && return
    if [[ ${CI:-} != true ]]; then
        die "RabbitMQ was restarted but still does not answer rabbitmqctl (see $log and /var/log/rabbitmq/); 'rabbitmqctl force_reset' while its app is stopped wipes its state"
    fi
    say "CI=true: the restarted node still does not answer: resetting it (rabbitmqctl force_reset)"
    timeout -k 5 60 rabbitmqctl -q stop_app </dev/null >>"$log" 2>&1 || true
    if ! timeout -k 5 60 rabbitmqctl -q force_reset </dev/null >>"$log" 2>&1; then
        rabbitmq_kill "$log"
        rm -rf /var/lib/rabbitmq/mnesia/* 2>/dev/null || true
    fi
    timeout -k 5 60 rabbitmqctl -q start_app </dev/null >>"$log" 2>&1 || true
    tcp_open 127.0.0.1 5672 || rabbitmq_start
    rabbitmq_responsive "$log" ||
        die "RabbitMQ was reset but still does not answer rabbitmqctl (see $log and /var/log/rabbitmq/)"
    say "rabbitmq up on 127.0.0.1:5672 (reset)"
}

ensure_rabbitmq() {
    local host port
    read -r host port < <(amqp_target)
    if [[ ! ($host == 127.0.0.1 || $host == localhost || $host == ::1) || $port != 5672 ]]; then
        # A broker elsewhere, chosen by KETENPOORT_AMQP_URL: check it, never start it.
        tcp_open "$host" "$port" ||
            die "RabbitMQ named by KETENPOORT_AMQP_URL is not reachable at $host:$port"
        say "rabbitmq up on $host:$port (KETENPOORT_AMQP_URL)"
        return
    fi
    if tcp_open 127.0.0.1 5672; then
        rabbitmq_healthy_or_restart
        return
    fi
    if ! rabbitmq_installed; then
        can_apt || die "RabbitMQ is not running on 127.0.0.1:5672 and is not installed: install rabbitmq-server (e.g. apt-get install rabbitmq-server) or point KETENPOORT_AMQP_URL at a broker"
        say "installing rabbitmq-server with apt-get"
        apt_install rabbitmq-server
        # Debian's package may have started the broker itself.
        if tcp_open 127.0.0.1 5672; then
            say "rabbitmq up on 127.0.0.1:5672"
            return
        fi
    fi
    if ! is_root && [[ $(id -un) != rabbitmq ]]; then
        die "RabbitMQ is installed but not running on 127.0.0.1:5672, and only root or rabbitmq can start it: run 'rabbitmq-server -detached' as root"
    fi
    rabbitmq_start
}

# -------------------------------------------------------------- postgresql --

# "VERSION NAME" of the cluster on port 5432 (else the first cluster), or nothing.
pg_cluster() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    pg_lsclusters -h 2>/dev/null | awk '
        $3 == 5432 { print $1, $2; found = 1; exit }
        NR == 1    { first = $1 " " $2 }
        END        { if (!found && first != "") print first }'
}

pg_ready() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h 127.0.0.1 -p 5432 -t 1
    else
        tcp_open 127.0.0.1 5432
    fi
}

# psql as postgres over TCP, never asking for a password (CI has no stdin).
pg_psql() {
    PGCONNECT_TIMEOUT=3 psql -X -w -q -A -t -h 127.0.0.1 -p 5432 -U postgres "$@" </dev/null
}

pg_test_db_reachable() { pg_psql -d test -c 'SELECT 1' >/dev/null 2>&1; }

# Only after this script installed PostgreSQL itself: let local TCP connections in
# without a password, and create database "test".
pg_configure_fresh() {
    local version=$1 name=$2 hba i
    hba=/etc/postgresql/$version/$name/pg_hba.conf
    if ! grep -q 'ketenpoort' "$hba"; then
        say "allowing passwordless TCP connections from 127.0.0.1 in $hba"
        # pg_hba.conf is first-match: our lines go first. Rewriting in place
        # keeps the file's owner and mode.
        local content
        content=$(cat "$hba")
        {
            echo "# added by ketenpoort scripts/ensure-services.sh: tests connect as postgres without a password"
            echo "host    all             all             127.0.0.1/32            trust"
            echo "host    all             all             ::1/128                 trust"
            printf '%s\n' "$content"
        } >"$hba"
        pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload </dev/null >&2 ||
            die "could not reload PostgreSQL $version/$name after editing $hba"
    fi
    # The reload is asynchronous: give it a moment.
    for i in $(seq 1 20); do
        pg_psql -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break
        ((i == 20)) && die "PostgreSQL is up but user postgres cannot connect over TCP from 127.0.0.1 without a password (see $hba)"
        sleep 0.5
    done
    if [[ -z $(pg_psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'test'") ]]; then
        say "creating database test"
        pg_psql -d postgres -c 'CREATE DATABASE test' >/dev/null
    fi
}

ensure_postgresql() {
    local cluster version name fresh=0 log="$LOG_DIR/ketenpoort-postgresql-start.log" start
    if pg_ready; then
        say "postgresql up on 127.0.0.1:5432"
        pg_warn_if_no_test_db
        return
    fi
    cluster=$(pg_cluster)
    if [[ -z $cluster ]]; then
        can_apt || die "PostgreSQL is not running on 127.0.0.1:5432 and is not installed: install postgresql (e.g. apt-get install postgresql) with a database test that user postgres can reach over TCP from 127.0.0.1 without a password"
        say "installing postgresql with apt-get"
        apt_install postgresql
        fresh=1
        cluster=$(pg_cluster)
        if [[ -z $cluster ]]; then
            # The server package was there already but its cluster had been dropped.
            version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
            [[ -n $version ]] || die "apt-get installed postgresql but no server version is in /usr/lib/postgresql"
            say "creating PostgreSQL cluster $version/main"
            pg_createcluster --port 5432 "$version" main </dev/null >&2
            cluster=$(pg_cluster)
        fi
    fi
    read -r version name <<<"$cluster"
    if ! pg_ready; then
        is_root || [[ $(id -un) == postgres ]] ||
            die "PostgreSQL $version/$name is installed but not running on 127.0.0.1:5432, and only root or postgres can start it: run 'pg_ctlcluster --skip-systemctl-redirect $version $name start' as root"
        say "postgresql is not running on 127.0.0.1:5432; starting cluster $version/$name"
        start=$SECONDS
        : >"$log" 2>/dev/null || log=/dev/null
        # Exit code 2 means "already running" (e.g. still starting up): wait either way.
        pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start </dev/null >>"$log" 2>&1 || true
        until pg_ready; do
            if ((SECONDS - start >= WAIT_SECONDS)); then
                tail -n 20 "$log" >&2 2>/dev/null || true
                die "PostgreSQL $version/$name did not come up on 127.0.0.1:5432 within ${WAIT_SECONDS}s (see $log and /var/log/postgresql/)"
            fi
            sleep 0.5
        done
        say "postgresql up on 127.0.0.1:5432 (started in $((SECONDS - start))s)"
    else
        say "postgresql up on 127.0.0.1:5432"
    fi
    if ((fresh)); then
        pg_configure_fresh "$version" "$name"
    else
        pg_warn_if_no_test_db
    fi
}

pg_warn_if_no_test_db() {
    command -v psql >/dev/null 2>&1 || return 0
    pg_test_db_reachable ||
        say "warning: PostgreSQL is up but database test is not reachable as user postgres over TCP from 127.0.0.1 without a password"
}

# ---------------------------------------------------------------- chromium --

ensure_chromium() {
    if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
        say "chromium present (/usr/bin/chromium, /usr/bin/chromedriver)"
        return
    fi
    can_apt || die "Chromium is not installed: install Debian's chromium and chromium-driver (e.g. apt-get install chromium chromium-driver)"
    say "installing chromium chromium-driver with apt-get"
    apt_install chromium chromium-driver
    [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] ||
        die "apt-get installed chromium and chromium-driver but /usr/bin/chromium or /usr/bin/chromedriver is missing"
    say "chromium present (/usr/bin/chromium, /usr/bin/chromedriver)"
}

# ---------------------------------------------------------------------- go --

readonly GO_SUMDB=/usr/share/gocode/src/golang.org/x/mod/sumdb

go_present() {
    command -v go >/dev/null 2>&1 && [[ -d $GO_SUMDB/note && -d $GO_SUMDB/tlog ]]
}

ensure_go() {
    if go_present; then
        say "go present ($(command -v go), golang.org/x/mod in /usr/share/gocode)"
        return
    fi
    can_apt || die "Go or golang.org/x/mod is not installed: install Debian's golang-go and golang-golang-x-mod-dev (e.g. apt-get install golang-go golang-golang-x-mod-dev)"
    say "installing golang-go golang-golang-x-mod-dev with apt-get"
    apt_install golang-go golang-golang-x-mod-dev
    go_present ||
        die "apt-get installed golang-go and golang-golang-x-mod-dev but go or $GO_SUMDB/{note,tlog} is missing"
    say "go present ($(command -v go), golang.org/x/mod in /usr/share/gocode)"
}

# ---------------------------------------------------------------- promtool --

ensure_promtool() {
    if command -v promtool >/dev/null 2>&1; then
        say "promtool present ($(command -v promtool))"
        return
    fi
    can_apt || die "promtool is not installed: install Debian's prometheus package (e.g. apt-get install prometheus)"
    say "installing prometheus (for promtool) with apt-get"
    apt_install --no-install-recommends prometheus
    command -v promtool >/dev/null 2>&1 ||
        die "apt-get installed prometheus but promtool is missing"
    say "promtool present ($(command -v promtool))"
}

# ---------------------------------------------------------------- asyncapi --

ensure_asyncapi() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        can_apt || die "Node.js is not installed: install Debian's nodejs and npm (e.g. apt-get install nodejs npm)"
        say "installing nodejs npm with apt-get"
        apt_install nodejs npm
    fi
    local root dir stamp want have=""
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    dir=$root/.cache/node
    stamp=$dir/.installed
    want=$(cat "$root/scripts/asyncapi/package.json" "$root/scripts/asyncapi/package-lock.json" | sha256sum | cut -d' ' -f1)
    [[ -f $stamp ]] && have=$(<"$stamp")
    if [[ $want == "$have" && -d $dir/node_modules/@asyncapi/parser ]]; then
        say "@asyncapi/parser present ($dir)"
        return
    fi
    mkdir -p "$dir"
    cp "$root/scripts/asyncapi/package.json" "$root/scripts/asyncapi/package-lock.json" "$dir/"
    local log="$LOG_DIR/ketenpoort-npm.log"
    say "installing @asyncapi/parser with npm ci into $dir"
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
        tail -n 30 "$log" >&2 || true
        die "npm ci failed (log: $log)"
    fi
    printf '%s\n' "$want" >"$stamp"
    say "@asyncapi/parser present ($dir)"
}

# -------------------------------------------------------------------- main --

main() {
    if [[ $# -eq 0 ]]; then
        usage
        exit 2
    fi
    local service
    for service in "$@"; do
        case $service in
        rabbitmq | postgresql | chromium | go | promtool | asyncapi) ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            say "unknown service: $service"
            usage
            exit 2
            ;;
        esac
    done
    for service in "$@"; do
        "ensure_$service"
    done
}

main "$@"
