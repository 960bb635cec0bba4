#!/bin/sh
# Installs the drover agent: the bundle, its systemd unit, a config skeleton and its directories.
#
#   install.sh [--root DIR] [--bundle FILE]
#
# --root DIR     install under DIR instead of / (images, packages, tests); nothing is started.
# --bundle FILE  the bundle to install (default: drover-agent.mjs next to this script, else
#                dist/drover-agent.mjs of the repository, built by `npm run build:agent`).
#
# An existing /etc/drover/agent.yaml is never overwritten. Needs Node.js 22 or 24 at run time (20.19 still runs it).
set -eu

root=/
here=$(cd "$(dirname "$0")" && pwd)
bundle=

while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --bundle) bundle=${2:?--bundle needs a file}; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$bundle" ]; then
  for candidate in "$here/drover-agent.mjs" "$here/../../dist/drover-agent.mjs"; do
    if [ -f "$candidate" ]; then bundle=$candidate; break; fi
  done
fi
if [ -z "$bundle" ] || [ ! -f "$bundle" ]; then
  echo "install.sh: no bundle found; run \`npm run build:agent\` or pass --bundle FILE" >&2
  exit 1
fi

root=${root%/}
install -d -m 0755 "$root/usr/lib/drover" "$root/usr/bin" "$root/etc/systemd/system"
install -d -m 0750 "$root/etc/drover"
install -d -m 0700 "$root/var/lib/drover"
install -m 0755 "$bundle" "$root/usr/lib/drover/drover-agent.mjs"
ln -sf /usr/lib/drover/drover-agent.mjs "$root/usr/bin/drover-agent"
install -m 0644 "$here/drover-agent.service" "$root/etc/systemd/system/drover-agent.service"
if [ -e "$root/etc/drover/agent.yaml" ]; then
  echo "kept existing $root/etc/drover/agent.yaml"
else
  install -m 0640 "$here/agent.yaml" "$root/etc/drover/agent.yaml"
fi

echo "installed the drover agent under ${root:-/}"
if [ -z "$root" ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  echo "edit /etc/drover/agent.yaml, then: systemctl enable --now drover-agent"
fi
