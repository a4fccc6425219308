#!/usr/bin/env bash
# Creates bench/.venv with PyTorch for the side-by-side throughput benchmark.
#
# PyPI's Linux torch wheel is a CUDA build: even `pip install torch --no-deps` fails to import
# on a CPU-only machine (libtorch_cpu.so itself links libcudart and libcupti, and
# libtorch_python.so links cuDNN and cuFile), so the CUDA runtime packages have to come along.
# That is a download of a few GB (about 5 GB installed), once. Only the CPU is used by the
# benchmark. numpy only silences the warning torch prints at import without it.
#
# Usage: bash bench/setup.sh [PYTHON]      (default: python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${1:-python3}"
venv="$here/.venv"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --upgrade pip >/dev/null
"$venv/bin/python" -m pip install torch numpy
"$venv/bin/python" - <<'EOF'
import torch
x = torch.randn(8, 4, requires_grad=True)
(x @ torch.randn(4, 3)).sum().backward()
print(f"torch {torch.__version__} works on the CPU ({torch.get_num_threads()} threads available)")
EOF
echo "now run: cargo bench --bench throughput -- --quick"
