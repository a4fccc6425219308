//! M1's training on a prepared scene: the VAE learns features from every pixel of the
//! unlabelled pool ([`train_m1`], shared with M1+M2). Runs themselves are
//! [`super::scene_run`]'s.

use burn::module::AutodiffModule;
use crate::models::backend::AutodiffBackend;

use super::config::ExperimentConfig;
use super::prepared::Prepared;
use super::run_dir::RunSession;
use crate::data::array::gather_rows;
use crate::error::Result;
use crate::models::tensors::column_moments;
use crate::models::M1;
use crate::train::m1_task::M1Task;
use crate::train::trainer::{train, TrainOutcome};

/// Trains M1 on the pool of a prepared scene; returns the parameters with the best validation
/// bound.
pub fn train_m1<B: AutodiffBackend>(p: &Prepared, cfg: &ExperimentConfig, mut run: RunSession, device: &B::Device) -> Result<TrainOutcome<M1<B::InnerBackend>>> {
    let dim = p.dim;
    // The pool's pixels held out for the validation bound.
    let pool = p.split.pool();
    let (kept, held) = crate::data::sampling::hold_out(pool.len(), cfg.holdout, cfg.train.seed);
    let (train_px, valid_px) = (gather_rows(pool, 1, &kept), gather_rows(pool, 1, &held));
    let mut task = M1Task::<B>::new(gather_rows(&p.x, dim, &train_px), gather_rows(&p.x, dim, &valid_px), dim, &cfg.train, device.clone())?;
    task.kl_warmup = cfg.kl_warmup;
    let (mean, var) = column_moments(&task.x, dim);
    let model = M1::<B>::new(&cfg.m1, dim, cfg.train.seed, device).init_output(&mean, &var, cfg.m1.initial_noise);
    let outcome = train(&mut task, model, &cfg.train, run.training("m1_"), device)?;
    Ok(TrainOutcome { best: outcome.best.valid(), state: outcome.state, epochs_trained: outcome.epochs_trained })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::sampling::Split;
    use crate::data::scaling::{Scaler, ScalingConfig};
    use crate::models::tensors::to_vec;
    use crate::pipeline::backend::{Cpu, CpuTrain};
    use burn::tensor::Tensor;

    /// log p(x|z) at the decoder's own mean for z = 0: -1/2 sum_d (ln 2 pi + ln var_d), so it
    /// reads the starting noise of every band.
    fn log_px_at_mean(model: &M1<Cpu>) -> f32 {
        let z = Tensor::<Cpu, 2>::zeros([1, model.latent_dim()], &Default::default());
        to_vec(model.log_px(model.decode_mean(z.clone()), z))[0]
    }

    #[test]
    fn initial_noise_scales_the_starting_variance_of_every_band() {
        let (n, bands) = (60, 3);
        let x: Vec<f32> = (0..n * bands).map(|i| ((i * 17 % 23) as f32) / 23.0).collect();
        let p = Prepared {
            split: Split { train: vec![0, 1], test: vec![2], unlabelled: (0..n).collect(), ..Default::default() },
            scaler: Scaler::fit(&ScalingConfig::default(), &x, bands).unwrap(),
            spatial: None,
            x: x.clone(),
            dim: bands,
            graph: None,
            height: n,
            width: 1,
            n_classes: 2,
            classes: vec![None; n],
            seeds: Default::default(),
            reach: Default::default(),
            config: ExperimentConfig::spectral(),
        };
        let start = |noise: f64| {
            let mut cfg = ExperimentConfig::spectral();
            cfg.m1.hidden = vec![4];
            cfg.m1.latent = 2;
            cfg.m1.initial_noise = noise;
            // One epoch at a zero learning rate: the model as it was initialised.
            cfg.train.epochs = 1;
            cfg.train.learning_rate = 0.0;
            cfg.train.batch_size = 16;
            let trained = train_m1::<CpuTrain>(&p, &cfg, RunSession::in_memory(&mut |_| {}), &Default::default()).unwrap();
            log_px_at_mean(&trained.best)
        };
        let gain = start(0.1) - start(1.0);
        let expected = 0.5 * bands as f32 * 10f32.ln();
        assert!((gain - expected).abs() < 1e-3, "gain {gain}, expected {expected}");
    }
}
