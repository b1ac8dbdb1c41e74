#!/bin/sh
# Applies patches/<package>+<version>.patch to node_modules/<package> (run by npm's postinstall,
# so `npm ci` on a fresh clone gets them) and rebuilds a patched native package with node-gyp.
# Idempotent: a patch that is already applied is left alone. Fails loudly when a patch does not
# fit the installed version.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for p in patches/*.patch; do
  [ -e "$p" ] || continue
  base=$(basename "$p" .patch)
  name=${base%+*}
  want=${base##*+}
  dir="node_modules/$name"
  [ -d "$dir" ] || { echo "patches: $name is not installed, skipping $p" >&2; continue; }
  have=$(node -p "require('./$dir/package.json').version")
  if [ "$have" != "$want" ]; then
    echo "patches: $p is for $name $want but $have is installed; update the patch" >&2
    exit 1
  fi
  if patch -d "$dir" -p1 -R --dry-run -s -f < "$p" >/dev/null 2>&1; then
    echo "patches: $name $have already patched"
    continue
  fi
  patch -d "$dir" -p1 -N -s -f --no-backup-if-mismatch < "$p"
  echo "patches: applied $p"
  if [ -f "$dir/binding.gyp" ]; then
    echo "patches: rebuilding $name (node-gyp)"
    npm rebuild --foreground-scripts=false "$name"
  fi
done
