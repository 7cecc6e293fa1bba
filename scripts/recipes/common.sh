# Sourced by each recipe: runs from the checkout, names the recipe in every run's metrics
# (`train --recipe`), and keeps each recipe's weights, checkpoints and pictures in DEST
# (the first argument; default runs/recipes/<recipe>), never over the committed weights.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
name=$(basename "$0" .sh)
recipe="scripts/recipes/$name.sh"
dest=${1:-runs/recipes/$name}
echo "recipe $recipe: weights and metrics in $dest (compare with web/weights/$name.metrics.json; copy both there to serve them)"
cargo build -q -p trainer --release

# `train MODEL [OPTIONS]`, with this recipe's name, checkpoints and pictures.
train() {
  target/release/trainer train "$@" --recipe "$recipe" \
    --checkpoint-dir "$dest/checkpoint" --report-dir "$dest/report"
}
