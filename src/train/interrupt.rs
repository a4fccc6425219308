//! Stopping training from outside its loop: an interactive session's Ctrl-C (the Python package
//! stops its token when Python sees KeyboardInterrupt). Code run under [`stoppable`] trains with
//! the loop looking at the token after every step; once it is stopped the loop ends with
//! [`Error::Interrupted`], and a run folder keeps its checkpoint of the last evaluation, from
//! which the run resumes.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// A request to stop, shared between the thread that trains and the one that asks.
#[derive(Debug, Clone, Default)]
pub struct StopToken(Arc<AtomicBool>);

impl StopToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the training loops watching this token to stop after their current step.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

thread_local! {
    static WATCHED: RefCell<Option<StopToken>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread with its training loops stopping when `token` is stopped.
pub fn stoppable<T>(token: &StopToken, f: impl FnOnce() -> T) -> T {
    let before = WATCHED.with(|w| w.borrow_mut().replace(token.clone()));
    // Put back on the way out, also when `f` unwinds.
    struct Restore(Option<StopToken>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let before = self.0.take();
            WATCHED.with(|w| *w.borrow_mut() = before);
        }
    }
    let _restore = Restore(before);
    f()
}

/// An error when the token this thread trains under has been stopped, naming the epoch.
pub(crate) fn check(epoch: usize) -> Result<()> {
    let stopped = WATCHED.with(|w| w.borrow().as_ref().is_some_and(StopToken::is_stopped));
    if stopped {
        return Err(Error::Interrupted { epoch: epoch + 1 });
    }
    Ok(())
}
