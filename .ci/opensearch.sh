#!/usr/bin/env bash
# Fetch the OpenSearch integ-test distribution (a plain zip published in Maven Central) with Maven and
# unpack it under .cache/opensearch/, where tests/opensearch/ looks for it. Idempotent: a second run
# with the distribution already unpacked does nothing. Prints the unpacked folder.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${OPENSEARCH_VERSION:-2.19.1}"
CACHE=".cache/opensearch"
HOME_DIR="$CACHE/opensearch-$VERSION"
if [ -x "$HOME_DIR/bin/opensearch" ]; then
    echo "$HOME_DIR"
    exit 0
fi
mkdir -p "$CACHE"
# Maven's own output (colour codes even with -q) is shown only when the fetch fails.
if ! mvn -q -B dependency:copy \
    -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$VERSION:zip" \
    -DoutputDirectory="$CACHE" -Dmdep.overWriteIfNewer=true > "$CACHE/mvn.log" 2>&1; then
    cat "$CACHE/mvn.log" >&2
    echo "opensearch.sh: could not fetch the OpenSearch $VERSION distribution with Maven" >&2
    exit 1
fi
rm -rf "$HOME_DIR.partial"
mkdir "$HOME_DIR.partial"
unzip -q "$CACHE/opensearch-$VERSION.zip" -d "$HOME_DIR.partial"
mv "$HOME_DIR.partial/opensearch-$VERSION" "$HOME_DIR"
rm -rf "$HOME_DIR.partial" "$CACHE/opensearch-$VERSION.zip" "$CACHE/mvn.log"
echo "$HOME_DIR"
