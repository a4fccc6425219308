//! The library's messages name settings as config.toml does ("train.epochs"); on the command
//! line each is also named by the flag that sets it.

use hyperssl::pipeline::run_dir::RUN_EXISTS;

/// Settings, by their config.toml names, and the flags that set them. Longer names first, so
/// that "m1_epochs" is found before a shorter name inside it could be.
const FLAGS: [(&str, &str); 12] = [
    ("unlabelled_weight", "--unlabelled-weight"),
    ("train.learning_rate", "--lr"),
    ("train.batch_size", "--batch-size"),
    ("train.eval_every", "--eval-every"),
    ("classifier_noise", "--classifier-noise"),
    ("m1.initial_noise", "--initial-noise"),
    ("m2.initial_noise", "--initial-noise"),
    ("labelled_batch", "--labelled-batch"),
    ("train.patience", "--patience"),
    ("train.epochs", "--epochs"),
    ("m1_epochs", "--m1-epochs"),
    ("alpha", "--alpha"),
];

/// `message` with "(--flag)" after the first refused setting it names ("train.epochs must ..."); a
/// run folder's "choose another folder" hint names --resume and --run.
pub fn with_flags(message: &str) -> String {
    let message = message.replace(RUN_EXISTS, "already holds a run; pass --resume to continue it or choose another --run folder");
    for (setting, flag) in FLAGS {
        let refused = format!("{setting} must");
        if let Some(at) = message.find(&refused) {
            // Not the tail of a longer name ("m1_epochs" inside "x.m1_epochs").
            if at == 0 || !message[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.') {
                return format!("{}{setting} ({flag}) must{}", &message[..at], &message[at + refused.len()..]);
            }
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperssl::pipeline::ExperimentConfig;

    fn refusal(edit: impl FnOnce(&mut ExperimentConfig)) -> String {
        let mut c = ExperimentConfig::default();
        edit(&mut c);
        with_flags(&c.check().unwrap_err().to_string())
    }

    #[test]
    fn each_refused_setting_is_named_with_its_flag() {
        assert_eq!(refusal(|c| c.train.epochs = 0), "train.epochs (--epochs) must be at least 1");
        assert_eq!(refusal(|c| c.m1_epochs = Some(0)), "m1_epochs (--m1-epochs) must be at least 1");
        assert!(refusal(|c| c.train.patience = 0).starts_with("train.patience (--patience) "));
        assert!(refusal(|c| c.train.batch_size = 0).starts_with("train.batch_size (--batch-size) "));
        assert!(refusal(|c| c.train.eval_every = 0).starts_with("train.eval_every (--eval-every) "));
        assert!(refusal(|c| c.train.learning_rate = 0.0).starts_with("train.learning_rate (--lr) must be a positive number, not 0"));
        assert!(refusal(|c| c.labelled_batch = Some(0)).starts_with("labelled_batch (--labelled-batch) "));
        assert!(refusal(|c| c.alpha = -1.0).starts_with("alpha (--alpha) must be a non-negative number, not -1"));
        assert!(refusal(|c| c.unlabelled_weight = -0.5).starts_with("unlabelled_weight (--unlabelled-weight) "));
        assert!(refusal(|c| c.classifier_noise = f64::NAN).starts_with("classifier_noise (--classifier-noise) "));
        assert!(refusal(|c| c.m2.initial_noise = 0.0).starts_with("m2.initial_noise (--initial-noise) "));
        // Behind the context the command line adds, too.
        assert_eq!(with_flags("run.toml with the flags given: alpha must be a non-negative number, not -1"), "run.toml with the flags given: alpha (--alpha) must be a non-negative number, not -1");
        // Other messages pass unchanged.
        assert_eq!(with_flags("scene.npy: bad header"), "scene.npy: bad header");
    }
}
