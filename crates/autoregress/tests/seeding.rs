// A generation's draws depend on its seed only: not on how it is chunked, nor on other
// generations stepping between its steps (the page runs one per panel on one device, whose
// random generator is global). Alone in its binary: tests in parallel threads would share it.

mod common;

use autoregress::{ArModel, GenerateOptions, Generation, VisitingOrder};
use common::*;

fn alone(model: &ArModel, options: &GenerateOptions) -> Vec<i64> {
    let mut g = Generation::new(model, options, &device()).unwrap();
    while g.step(model) {}
    ints(g.values())
}

fn interleaved(model: &ArModel, a: &GenerateOptions, b: &GenerateOptions) -> (Vec<i64>, Vec<i64>) {
    let mut ga = Generation::new(model, a, &device()).unwrap();
    let mut gb = Generation::new(model, b, &device()).unwrap();
    loop {
        let stepped_a = ga.step(model);
        let stepped_b = gb.step(model);
        if !stepped_a && !stepped_b {
            break;
        }
    }
    (ints(ga.values()), ints(gb.values()))
}

#[test]
fn interleaved_generations_draw_what_each_draws_alone() {
    let cases = [
        (toy_model(32), VisitingOrder::Raster, 1),
        (toy_any_order_model(32), VisitingOrder::Adaptive { noise: 1.0, window: 0 }, 3),
        (toy_any_order_model(32), VisitingOrder::Random, 2),
    ];
    for (model, order, per_step) in cases {
        let a = GenerateOptions { order: order.clone(), per_step, seed: 1, ..GenerateOptions::new(6) };
        let b = GenerateOptions { seed: 2, ..a.clone() };
        let (alone_a, alone_b) = (alone(&model, &a), alone(&model, &b));
        assert_ne!(alone_a, alone_b, "{order:?}: seeds 1 and 2 drew the same values");
        assert_eq!(alone(&model, &a), alone_a, "{order:?}: the same seed drew different values");
        let (mixed_a, mixed_b) = interleaved(&model, &a, &b);
        assert_eq!(mixed_a, alone_a, "{order:?}: another generation's steps changed seed 1's draws");
        assert_eq!(mixed_b, alone_b, "{order:?}: another generation's steps changed seed 2's draws");
    }
}
