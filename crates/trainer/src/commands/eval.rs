//! `trainer eval`: the exact metrics of committed or given weights (`crate::eval`).

use crate::cli::EvalArgs;
use autoregress::ModelKind;
use crate::{data, eval, files};
use anyhow::Result;
use crate::report::{self, Eval, EvalReport};
use super::load_mnist;

pub fn run(a: EvalArgs) -> Result<()> {
    let (chosen, path, model) = super::load(a.model, &a.weights)?;
    let quiet = a.json;
    let eval = match a.model {
        ModelKind::Toy | ModelKind::ToyAnyOrder => {
            Eval::Toy(eval::toy(&model, &chosen.device, a.sequences, a.sequences, a.seed, a.draws.unwrap_or(eval::TOY_DRAWS), quiet))
        }
        ModelKind::Mnist | ModelKind::MnistAnyOrder => {
            let m = load_mnist(&a.data_dir)?;
            let (tr, te) = (&m.train.images, &m.test.images);
            if a.images > te.count {
                eprintln!("note: {} holds {} test images: evaluating those, not the {} asked for (--images)", m.test.path.display(), te.count, a.images);
            }
            data::check_geometry(te, &m.test.path, &model.spec, &path)?;
            Eval::Mnist(eval::mnist(&model, &chosen.device, &tr.pixels, &te.pixels, a.images, a.inpaint_images, a.draws.unwrap_or(eval::IMAGE_DRAWS), quiet))
        }
    };
    let spread = match &eval {
        Eval::Toy(e) => e.order_agnostic.as_ref().map(|o| (o.order_agnostic_draw_set_spread, o.order_agnostic_draw_error, "nats/position")),
        Eval::Mnist(e) => e.order_agnostic.as_ref().map(|o| (o.order_agnostic_draw_set_spread, o.order_agnostic_draw_error, "bits/dim")),
    };
    if let Some((spread, error, unit)) = spread {
        eprintln!(
            "the order-agnostic estimate is the mean of {} independent sets of draws, whose figures span {spread:.4} {unit}: \
             the draws alone move it by about {error:.4} (one standard error)",
            eval::DRAW_SETS
        );
    }
    if let Eval::Mnist(e) = &eval {
        let dead: Vec<String> = e.dead_channels.iter().flatten().filter(|l| !l.dead.is_empty()).map(|l| format!("{} of {} in {}", l.dead.len(), l.channels, l.layer)).collect();
        if !dead.is_empty() {
            eprintln!("dead channels (never varying over the evaluation's inputs): {}", dead.join(", "));
        }
    }
    let metrics = EvalReport { eval, weights: files::shown(&path), device: chosen.name.to_string() };
    report::check_figures(&metrics, &format!("the evaluation of {}", path.display()))?;
    if a.json {
        println!("{}", serde_json::to_string(&metrics)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&metrics)?);
    }
    Ok(())
}
