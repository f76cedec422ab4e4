#!/usr/bin/env bash
# test/pg18.sh: a PostgreSQL 18 server with pgTAP for the test suite, built
# from source once into a cache outside the repository and reused while the
# source tarballs are unchanged.  Prints the path of its pg_config on stdout;
# progress goes to stderr.
#
# Cache: ${MEMPROF_CACHE:-/var/cache/memprof-test}/pg-<version>, with a stamp
# file (.memprof-stamp) recording the SHA-256 of both tarballs.
#
# Sources: the directory ${MEMPROF_PG_SRC:-<repository>/../shared/pg-src}
# holding postgresql-18_<version>.orig.tar.bz2, pgtap_<version>.orig.tar.gz
# and SHA256SUMS (checked).  When that directory is absent, Debian's source
# packages postgresql-18 and pgtap are fetched with
# `apt-get source --download-only` from the mirror the machine's apt sources
# already name (a deb-src entry for the suite sid is added for it; apt checks
# the downloads against the signed source index).
#
# Needs bison and flex (installed with apt-get when missing, as root).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${MEMPROF_CACHE:-/var/cache/memprof-test}
SRC=${MEMPROF_PG_SRC:-$ROOT/../shared/pg-src}
JOBS=${MEMPROF_BUILD_JOBS:-2}

say() { echo "pg18: $*" >&2; }
die() { echo "pg18: $*" >&2; exit 1; }

# need_packages PKG...: install Debian packages that are missing.
need_packages() {
	local need=() p
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
	[ ${#need[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages and not root: ${need[*]}"
	say "installing ${need[*]}"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

# mirror_uri: the URI of the Debian archive that the machine's apt sources
# name (deb822 .sources files first, then one-line sources.list entries).
mirror_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" \
			| grep -v -e security -e backports | head -1 || true)
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1=="deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i ~ /:\/\//) { print $i; break } }' "$f" \
			| grep -v -e security -e backports | head -1 || true)
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	return 1
}

# fetch_debian DIR: Debian's postgresql-18 and pgtap source packages into DIR.
fetch_debian() {
	local dir=$1 uri list=/etc/apt/sources.list.d/memprof-sid-src.sources
	[ "$(id -u)" -eq 0 ] || die "$SRC is absent and fetching sources with apt needs root"
	need_packages dpkg-dev
	if [ ! -f "$list" ]; then
		uri=$(mirror_uri) || die "no Debian mirror found in the apt sources"
		say "adding deb-src for sid from $uri"
		printf 'Types: deb-src\nURIs: %s\nSuites: sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			"$uri" >"$list"
	fi
	apt-get update -qq >&2
	# apt downloads as _apt when it can write the directory
	id _apt >/dev/null 2>&1 && chown _apt "$dir"
	# Only the upstream tarballs are used: a package whose other files the
	# mirror lacks is fine as long as its .orig tarball came (apt checks
	# every file it keeps against the signed source index).
	( cd "$dir" && apt-get source --download-only postgresql-18 pgtap >&2 ) \
		|| say "apt-get source reported errors; going on if the upstream tarballs came"
	ls "$dir"/postgresql-18_*.orig.tar.* "$dir"/pgtap_*.orig.tar.* >/dev/null 2>&1 \
		|| die "apt-get source did not fetch the upstream tarballs of postgresql-18 and pgtap"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -d "$SRC" ]; then
	pgtar=$(ls "$SRC"/postgresql-18_*.orig.tar.bz2 | sort -V | tail -1)
	taptar=$(ls "$SRC"/pgtap_*.orig.tar.gz | sort -V | tail -1)
	( cd "$SRC" && sha256sum --quiet -c --ignore-missing SHA256SUMS >&2 ) \
		|| die "checksum mismatch in $SRC"
	for t in "$pgtar" "$taptar"; do
		grep -q " $(basename "$t")\$" "$SRC/SHA256SUMS" || die "$(basename "$t") is not listed in $SRC/SHA256SUMS"
	done
else
	say "$SRC absent: fetching Debian's source packages"
	fetch_debian "$work"
	pgtar=$(ls "$work"/postgresql-18_*.orig.tar.* | sort -V | tail -1)
	taptar=$(ls "$work"/pgtap_*.orig.tar.* | sort -V | tail -1)
fi

version=$(basename "$pgtar" | sed -E 's/^postgresql-18_([0-9.]+)\.orig\.tar\..*$/\1/')
dest=$CACHE/pg-$version
stamp="$(sha256sum <"$pgtar" | cut -d' ' -f1) $(basename "$pgtar")
$(sha256sum <"$taptar" | cut -d' ' -f1) $(basename "$taptar")"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-pg-$version"
flock 9   # one build at a time; a second caller waits and then reuses it

if [ -x "$dest/bin/pg_config" ] && [ -f "$dest/.memprof-stamp" ] \
	&& [ "$(cat "$dest/.memprof-stamp")" = "$stamp" ]; then
	echo "$dest/bin/pg_config"
	exit 0
fi

need_packages bison flex make gcc g++ zlib1g-dev perl
rm -rf "$dest"
say "building PostgreSQL $version into $dest (log: $CACHE/pg-$version.log)"
log=$CACHE/pg-$version.log
start=$(date +%s)
{
	tar -xf "$pgtar" -C "$work"
	tar -xf "$taptar" -C "$work"
	pgdir=$(find "$work" -maxdepth 1 -type d -name 'postgresql-*' | head -1)
	tapdir=$(find "$work" -maxdepth 1 -type d -name 'pgtap-*' | head -1)
	( cd "$pgdir" && ./configure --prefix="$dest" --without-icu --without-readline \
		&& make -j"$JOBS" && make install && make -C contrib -j"$JOBS" && make -C contrib install )
	make -C "$tapdir" PG_CONFIG="$dest/bin/pg_config"
	make -C "$tapdir" PG_CONFIG="$dest/bin/pg_config" install
} >"$log" 2>&1 || { tail -40 "$log" >&2; die "build failed; see $log"; }
chmod -R a+rX "$dest"
# the postgres OS user must reach the installation
d=$dest
while [ "$d" != / ]; do chmod a+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
printf '%s\n' "$stamp" >"$dest/.memprof-stamp"
say "built in $(( $(date +%s) - start )) s"
echo "$dest/bin/pg_config"
