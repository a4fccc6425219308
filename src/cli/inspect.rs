//! `hyperssl inspect`: what is in a scene, before anyone trains on it.

use super::scene_args::SceneArgs;
use hyperssl::data::Scene;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    #[command(flatten)]
    pub scene: SceneArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let scene = args.scene.load()?;
    print!("{}", describe(&scene));
    Ok(())
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn describe(scene: &Scene) -> String {
    let mut s = String::new();
    s += &format!("scene:     {}\n", scene.source.display());
    s += &format!("shape:     {} x {} x {} (height x width x bands)\n", scene.height, scene.width, scene.bands);
    s += &format!("pixels:    {}\n", thousands(scene.n_pixels()));
    s += &format!("dtype:     {}\n", scene.dtype);
    let finite = scene.pixels.iter().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    s += &format!("values:    {lo} .. {hi}\n");
    let bad = scene.count_non_finite();
    s += &format!("NaN/inf:   {bad}{}\n", if bad > 0 { "  (training will refuse this scene until they are repaired)" } else { "" });
    if let Some(w) = &scene.wavelengths {
        s += &format!("bands:     {:.1} .. {:.1} nm\n", w.first().unwrap_or(&0.0), w.last().unwrap_or(&0.0));
    }
    let Some(labels) = &scene.labels else {
        s += "labels:    none\n";
        return s;
    };
    let n = labels.n_labelled();
    s += &format!("labelled:  {} pixels in {} classes ({:.1}% of the scene)\n", thousands(n), labels.n_classes(), 100.0 * n as f64 / scene.n_pixels() as f64);
    s += "\n  value  class                           pixels       %\n";
    let counts = labels.counts();
    for (k, c) in counts.iter().enumerate() {
        s += &format!("  {:>5}  {:<30} {:>7}  {:>6.2}\n", labels.values[k], labels.names[k], thousands(*c), 100.0 * *c as f64 / n.max(1) as f64);
    }
    if let Some((k, &c)) = counts.iter().enumerate().max_by_key(|(_, c)| **c) {
        let share = c as f64 / n.max(1) as f64;
        if share > 0.5 {
            s += &format!(
                "\nwarning: class '{}' holds {:.1}% of the labels: predicting it everywhere already gives {:.1}% overall \
                 accuracy, so judge models by average accuracy and kappa, and consider --max-per-class\n",
                labels.names[k],
                100.0 * share,
                100.0 * share
            );
        }
    }
    s
}
