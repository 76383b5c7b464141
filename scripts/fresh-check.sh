#!/usr/bin/env bash
# The README's quick start on a clean Debian 12 system: a minbase root made with debootstrap,
# the commit under test cloned into it, and the README's commands run there exactly as written.
# Usage: scripts/fresh-check.sh [--tests CTEST_REGEX]   (as root; `make fresh-check` runs it)
#
# What a newcomer installs first is the README's "prerequisites" block; the quick start is its
# "quick-start" block (each marked with an HTML comment the script looks for). The pristine root
# is cached as a tarball in $FRESH_CHECK_CACHE (default ~/.cache/tinynn); every run unpacks it
# anew into $FRESH_CHECK_DIR (default /tmp/tinynn-fresh-check), so nothing from a previous run or
# from this machine's own packages leaks in. Exits non-zero naming the step that failed.
set -euo pipefail

tests_regex='^(packaging|examples)[.]|^cli[.](help|xor|validate_configs|export)'
while [ $# -gt 0 ]; do
  case "$1" in
    --tests) tests_regex="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
work=${FRESH_CHECK_DIR:-/tmp/tinynn-fresh-check}
cache=${FRESH_CHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tinynn}
suite=bookworm
root=$work/root
log=$work/fresh-check.log
tarball=$cache/debian-$suite-minbase.tar.gz

step_name="setup"
t_start=$(date +%s)
fail() {
  echo "fresh-check: FAILED at step '$step_name' after $(( $(date +%s) - t_start )) s; last lines of $log:" >&2
  tail -n 25 "$log" >&2 || true
  exit 1
}
trap fail ERR
step() {
  step_name="$1"
  echo "fresh-check: [$(( $(date +%s) - t_start ))s] $1"
  echo "==== $1" >>"$log"
}

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-check: must run as root (debootstrap and chroot need it); try: sudo make fresh-check" >&2
  exit 2
fi
mkdir -p "$work" "$cache"
: >"$log"

# The Debian mirror this machine's apt already uses: the first URI serving the suite, from a
# one-line (sources.list) or a deb822 (.sources) file. Never a host name written here.
debian_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v s="$suite" '$1 == "deb" { sub(/\[[^]]*\][ \t]*/, ""); if ($3 == s) { print $2; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0; deb = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, a, " "); uri = a[2] }
          if ($i ~ /^Suites:/) { n = split($i, a, " "); for (j = 2; j <= n; j++) if (a[j] == s) ok = 1 }
          if ($i ~ /^Types:.*(^|[ ])deb([ ]|$)/) deb = 1
        }
        if (ok && deb && uri != "") { print uri; exit } }' "$f"
  done
}

# The block after the marker `<!-- fresh-check: NAME -->` in the README of the commit under test:
# its command lines, comments cut.
readme_block() {
  awk -v m="<!-- fresh-check: $1 -->" '
    index($0, m) { found = 1; next }
    found && /^```/ { if (inblock) exit; inblock = 1; next }
    inblock { sub(/[ \t]+#.*$/, ""); if ($0 != "") print }' <(git -C "$repo" show "$commit:README.md")
}

step "host tools (debootstrap)"
if ! command -v debootstrap >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >>"$log" 2>&1 || {
    apt-get update -qq >>"$log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >>"$log" 2>&1
  }
fi

step "read the README's prerequisite and quick-start commands"
mapfile -t prereq < <(readme_block prerequisites)
mapfile -t quick < <(readme_block quick-start)
[ ${#prereq[@]} -gt 0 ] && [ ${#quick[@]} -gt 0 ] || {
  echo "README.md lacks the marked prerequisites/quick-start blocks" >>"$log"; false; }
printf '  prerequisites: %s\n' "${prereq[@]}"
printf '  quick start:   %s\n' "${quick[@]}"

step "pristine Debian $suite minbase root"
if [ ! -s "$tarball" ]; then
  mirror=$(debian_mirror | head -n 1)
  [ -n "$mirror" ] || { echo "no Debian $suite mirror in this machine's apt sources" >>"$log"; false; }
  echo "  debootstrap from this machine's mirror (cached as $tarball)"
  rm -rf "$work/bootstrap"
  debootstrap --variant=minbase "$suite" "$work/bootstrap" "$mirror" >>"$log" 2>&1
  tar -C "$work/bootstrap" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$work/bootstrap"
fi
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xzf "$tarball"

step "point the root's apt at this machine's Debian sources"
# The same mirrors (and any proxy or snapshot setting) as the host, so the root can reach them.
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && grep -qw "$suite" "$f" && cp "$f" "$root$f"
done
apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy) ' >"$root/etc/apt/apt.conf.d/99host-network" || true
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

step "clone commit ${commit:0:12} into the root"
git -C "$repo" bundle create "$root/tmp/tinynn.bundle" HEAD >>"$log" 2>&1

# Runs a command in the root as a newcomer's login shell would, with /proc, /sys and /dev there;
# a private mount namespace drops the mounts when it ends, however it ends.
in_root() {
  unshare --mount --propagation private bash -c '
    root=$1; shift
    mount -t proc proc "$root/proc" && mount -t sysfs sys "$root/sys" && mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c "$*"' _ "$root" "$@"
}

for cmd in "${prereq[@]}"; do
  step "prerequisite: $cmd"
  in_root "cd /root && $cmd" >>"$log" 2>&1
done
in_root "command -v nvcc" >>"$log" 2>&1 && { echo "the root has a CUDA compiler; it must not" >>"$log"; false; }

step "git clone"
in_root "cd /root && git clone -q /tmp/tinynn.bundle tinynn && cd tinynn && git checkout -q $commit" >>"$log" 2>&1

t_clone=$(date +%s)
for cmd in "${quick[@]}"; do
  run="$cmd"
  # The whole suite already ran outside the root; here the test command runs a quick subset.
  [ "$cmd" = "make test" ] && run="make test CTEST_ARGS=\"-R '$tests_regex'\""
  step "quick start: $run"
  t_cmd=$(date +%s)
  in_root "cd /root/tinynn && $run" 2>&1 | while IFS= read -r line; do
    printf '%s %s\n' "$(( $(date +%s) - t_clone ))" "$line"
  done >>"$log"
  echo "  done in $(( $(date +%s) - t_cmd )) s"
  if [ "$cmd" = "make train" ]; then
    first_epoch=$(grep -m1 -E '^[0-9]+ epoch 1/' "$log" | cut -d' ' -f1 || true)
    [ -n "$first_epoch" ] || { echo "make train printed no 'epoch 1/' line" >>"$log"; false; }
    grep -E '^[0-9]+ \{"epochs":.*"test_accuracy"' "$log" | tail -n 1 | cut -d' ' -f2- | sed 's/^/  /'
    echo "  time from the clone to the first epoch's line: $first_epoch s"
  fi
done

trap - ERR
echo "fresh-check: passed in $(( $(date +%s) - t_start )) s (log: $log)"
