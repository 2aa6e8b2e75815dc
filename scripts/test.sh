#!/usr/bin/env bash
# The project's test command (README; .ci/run runs exactly this):
#
#   bash scripts/test.sh [pytest arguments]
#
# On a clean Debian machine it first installs what is missing: Java 17 and Maven (for the HAPI
# FHIR test server), PostgreSQL (for the storage tests), chromium and CJK fonts (for the browser
# tests), nginx (the deployment proxy of the slow-client test), python3-venv; then creates .venv,
# installs the project with its test extras, builds the HAPI test server jar (tests/hapi; offline
# when ~/.m2 already has everything), runs `ruff check` and then pytest over tests/ (or over
# what the arguments name, e.g. `bash scripts/test.sh tests/infra -x`).
# The exit status is pytest's, except that "no tests ran" (pytest's 5) is a failure too.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

started=$SECONDS
say() { printf '[test.sh %4ds] %s\n' "$((SECONDS - started))" "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        return 1
    fi
}

apt_updated=0
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        say "no apt-get here: install $* by hand"
        return 1
    fi
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -qq || return 1
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

have_postgres() {
    { command -v initdb && command -v postgres; } >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

PYTHON=${PYTHON:-python3}
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
have_postgres || missing+=(postgresql)
command -v "$PYTHON" >/dev/null 2>&1 || missing+=(python3)
"$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
# the browser tests (tests/fixtures/browser.py): Debian's chromium, driven by Playwright (no
# browser download), and CJK fonts so that the zh/ja pages render in screenshots
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/share/fonts/opentype/noto/NotoSansCJK*" >/dev/null || missing+=(fonts-noto-cjk)
# the deployment proxy in front of sync workers (tests/reliability/test_slow_clients.py)
{ command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null 2>&1 || missing+=(nginx-light)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt_install "${missing[@]}" || say "could not install ${missing[*]}: the tests needing them will say so"
    if [[ " ${missing[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null 2>&1; then
        # The package may have started its default cluster; the tests start their own.
        pg_lsclusters -h 2>/dev/null | while read -r version cluster _ status _; do
            if [ "$status" = online ]; then
                as_root pg_ctlcluster "$version" "$cluster" stop || true
            fi
        done
    fi
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "$PYTHON is older than 3.11; set PYTHON=python3.11 (or newer)"
    exit 2
fi

if ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
    say "creating .venv"
    rm -rf .venv
    "$PYTHON" -m venv .venv || exit 2
fi
say "installing the project and its test extras into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null || true
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' || exit 2

if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
    say "building the HAPI FHIR test server (tests/hapi)"
    .venv/bin/python -m tests.fixtures.hapi build || say "HAPI build failed: the FHIR tests will fail"
else
    say "no java/mvn: the FHIR server tests will be skipped (or fail under CI=true)"
fi

say "ruff check"
lint=0
.venv/bin/ruff check . || { lint=1; say "ruff check found problems (see above): the run fails"; }

say "pytest"
# No arguments: pyproject's testpaths, i.e. everything under tests/.
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
    say "pytest collected no tests: that is a failure"
    status=1
fi
if [ "$status" -eq 0 ] && [ "$lint" -ne 0 ]; then
    say "tests passed but ruff check failed: that is a failure"
    status=1
fi
say "done, exit status $status"
exit "$status"
