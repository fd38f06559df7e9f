#!/bin/sh
# Builds the function binary ./handler from a build context laid out as
# `faas-cli build --shrinkwrap` makes it (build/<fn>/): this template at the
# root, the function's handler in function/, and each `configuration.copy`
# folder of stack.yml in function/<path>. The Dockerfile runs it, and so
# does faas-local, with nothing but Go and the Go module proxy: no go.work.
#
# Usage: sh build.sh   (in the build context; honours GOOS, GOARCH, CGO_ENABLED)
set -eu

cd "$(dirname "$0")"
export GOWORK=off
export GOFLAGS="${GOFLAGS:-} -mod=mod"

if [ ! -f function/go.mod ]; then
	echo "build.sh: function/go.mod is missing: a golang-http function is a Go module" >&2
	exit 1
fi

# main.go imports the handler as handler/function, whatever its module path
# in the repository: rename it here, in the build context's copy.
go mod edit -module handler/function function/go.mod

# Point every copied module (a `copy` folder holding a go.mod) at its copy.
for mod in function/*/go.mod function/*/*/go.mod; do
	[ -f "$mod" ] || continue
	dir=$(dirname "$mod")
	path=$(awk '$1 == "module" { print $2; exit }' "$mod")
	[ -n "$path" ] || continue
	go mod edit -replace="$path=./$dir" go.mod
	# The handler's own relative replace points outside the context; drop it.
	go mod edit -dropreplace="$path" function/go.mod
done

go mod tidy
CGO_ENABLED="${CGO_ENABLED:-0}" go build -trimpath -ldflags="-s -w" -o handler .
