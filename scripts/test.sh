#!/usr/bin/env bash
# Every test: the Rust crate's (`cargo test --release`, with burn's ndarray backend built in so that
# its test runs too), then the Python package's: a virtual
# environment in target/python-venv, the package built and installed into it by pip (maturin), and
# pytest, which also runs the hyperssl binary that `cargo test --release` built.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --features ndarray-backend
command -v python3 >/dev/null || { echo "python3 not found: the Python package's tests need CPython 3.9 or later" >&2; exit 1; }
venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q . pytest
root=$PWD
# From the tests' folder, so that `import hyperssl` is the installed package, not python/hyperssl.
cd python/tests
HYPERSSL_BIN="$root/target/release/hyperssl" "$root/$venv/bin/python" -m pytest -q
