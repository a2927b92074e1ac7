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
mvn -q -B -Dstyle.color=never dependency:copy \
    -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$VERSION:zip" \
    -DoutputDirectory="$CACHE" -Dmdep.overWriteIfNewer=true >&2
rm -rf "$HOME_DIR.partial"
mkdir "$HOME_DIR.partial"
unzip -q "$CACHE/opensearch-$VERSION.zip" -d "$HOME_DIR.partial"
mv "$HOME_DIR.partial/opensearch-$VERSION" "$HOME_DIR"
rm -rf "$HOME_DIR.partial" "$CACHE/opensearch-$VERSION.zip"
echo "$HOME_DIR"
