//! Background jobs that never block: [`Job`], a computation on a named thread of its own (the
//! studio's t-SNE) with a result slot, progress and cancellation, and [`Progress`], the handle
//! the work reports through and polls for cancellation. Dropping a job cancels it and detaches
//! its thread, which winds down at its next check; the UI thread never waits for it.
//!
//! A job's work runs on a thread pool of its own whose threads run at a lower scheduling
//! priority than training (Linux's idle class): while a run trains, a projection takes only
//! the time training leaves; while nothing trains, it has every core. (Training uses rayon's
//! global pool; a job's parallel loops run in its own.)
//!
//! Plain std and rayon: no egui, no burn. The caller brings its repaint as a [`Waker`]. One of
//! the two files that spawn threads (with `train::worker`).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Called to tell the UI something changed, e.g. `ctx.request_repaint()`.
pub type Waker = Box<dyn Fn() + Send + Sync>;

/// How much lower a job's threads run than training's where the idle scheduling class is
/// refused: Linux gives a nice-19 thread about 1/70 of the CPU time of a nice-0 one.
pub const JOB_NICENESS: i32 = 19;

/// Puts the calling thread in Linux's idle scheduling class (`SCHED_IDLE`: it runs when no
/// normal thread wants the core, so it fills the gaps training leaves between its operations
/// and never takes a core from it), or failing that lowers it by [`JOB_NICENESS`]. Elsewhere
/// it runs at normal priority.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: both calls only read their arguments; `0` names the calling thread.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) != 0 {
            let _ = libc::setpriority(libc::PRIO_PROCESS, 0, JOB_NICENESS);
        }
    }
}

/// Progress reports wake the UI at most this often; a frame is about 16 ms.
const WAKE_INTERVAL: Duration = Duration::from_millis(15);

/// What a job's work reports through: its progress (0 to 1) and whether it has been cancelled.
///
/// [`Progress::is_cancelled`] is one atomic load, cheap enough for every item of a parallel
/// loop; [`Progress::report`] also wakes the UI, at most every 15 ms however often it is called.
pub struct Progress {
    cancelled: AtomicBool,
    /// In [0, 1], as `f32` bits.
    fraction: AtomicU32,
    waker: Option<Waker>,
    started: Instant,
    /// Microseconds from `started` to the last wake; `u64::MAX` before the first.
    last_wake_us: AtomicU64,
}

impl Default for Progress {
    /// Progress nobody watches: reports wake nothing, and only [`Progress::cancel`] cancels.
    fn default() -> Self {
        Self::with_waker(None)
    }
}

impl Progress {
    /// Progress whose reports call `waker` (throttled).
    pub fn new(waker: Waker) -> Self {
        Self::with_waker(Some(waker))
    }

    fn with_waker(waker: Option<Waker>) -> Self {
        Self {
            cancelled: AtomicBool::new(false),
            fraction: AtomicU32::new(0),
            waker,
            started: Instant::now(),
            last_wake_us: AtomicU64::new(u64::MAX),
        }
    }

    /// Records `fraction` (0 to 1) and wakes the watcher if it has not been woken for a while.
    /// Returns false once the work is cancelled: the work should then stop and return nothing.
    pub fn report(&self, fraction: f32) -> bool {
        self.fraction.store(fraction.to_bits(), Ordering::Relaxed);
        if let Some(waker) = &self.waker {
            let now_us = self.started.elapsed().as_micros() as u64;
            let last_us = self.last_wake_us.load(Ordering::Relaxed);
            let due = last_us == u64::MAX
                || now_us.saturating_sub(last_us) >= WAKE_INTERVAL.as_micros() as u64;
            if due
                && self
                    .last_wake_us
                    .compare_exchange(last_us, now_us, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                waker();
            }
        }
        !self.is_cancelled()
    }

    /// True once [`Progress::cancel`] has been called (by the job's owner, or its drop).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Asks the work to stop at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// The last fraction reported, 0 before the first.
    pub fn fraction(&self) -> f32 {
        f32::from_bits(self.fraction.load(Ordering::Relaxed))
    }

    fn wake(&self) {
        if let Some(waker) = &self.waker {
            waker();
        }
    }
}

/// A computation on its own named thread (a t-SNE, say), with progress and cancellation.
///
/// Dropping it cancels the work and detaches the thread without waiting for it: the thread
/// ends at the work's next cancellation check. [`Job::liveness`] tells when it has.
pub struct Job<T> {
    slot: Arc<Mutex<Slot<T>>>,
    progress: Arc<Progress>,
    /// Held by the thread until it returns.
    alive: Weak<()>,
}

/// Where the thread leaves its result, and says it is done.
struct Slot<T> {
    result: Option<T>,
    /// The work has returned (or panicked): no result will come after this.
    ended: bool,
}

/// Marks the slot ended when the thread leaves the work, by return or by panic.
struct EndGuard<T>(Arc<Mutex<Slot<T>>>);

impl<T> Drop for EndGuard<T> {
    fn drop(&mut self) {
        lock(&self.0).ended = true;
    }
}

/// A poisoned slot only means a panic while it was held; the data inside is still whole.
fn lock<T>(slot: &Mutex<Slot<T>>) -> std::sync::MutexGuard<'_, Slot<T>> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T: Send + 'static> Job<T> {
    /// Runs `work` on a thread named `name`. `work` reports through the [`Progress`] it gets
    /// and returns `None` once cancelled; `waker` is called on reports (throttled) and when
    /// the result is ready.
    pub fn spawn(
        name: &str,
        waker: Waker,
        work: impl FnOnce(&Progress) -> Option<T> + Send + 'static,
    ) -> std::io::Result<Self> {
        let slot = Arc::new(Mutex::new(Slot {
            result: None,
            ended: false,
        }));
        let progress = Arc::new(Progress::new(waker));
        let token = Arc::new(());
        let alive = Arc::downgrade(&token);
        let (end, p) = (EndGuard(slot.clone()), progress.clone());
        // The handle is dropped at once: the thread is detached, never joined.
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let _token = token;
                let end = end;
                lower_this_threads_priority();
                // The job's own pool, its threads lowered too; on failure, the global pool.
                let pool = rayon::ThreadPoolBuilder::new()
                    .thread_name(|i| format!("job-{i}"))
                    .start_handler(|_| lower_this_threads_priority())
                    .build();
                let result = match &pool {
                    Ok(pool) => pool.install(|| work(&p)),
                    Err(_) => work(&p),
                };
                if let Some(r) = result {
                    lock(&end.0).result = Some(r);
                    p.wake();
                }
            })?;
        Ok(Self {
            slot,
            progress,
            alive,
        })
    }
}

impl<T> Job<T> {
    /// The last progress reported, 0 to 1.
    pub fn progress(&self) -> f32 {
        self.progress.fraction()
    }

    /// Asks the work to stop at its next cancellation check.
    pub fn cancel(&self) {
        self.progress.cancel();
    }

    /// The result, once the work has finished with one; `None` before, and after it was taken.
    pub fn try_take(&self) -> Option<T> {
        lock(&self.slot).result.take()
    }

    /// True when the work has returned (or panicked) and its result, if any, has been taken:
    /// nothing arrives after this returns true.
    pub fn is_finished(&self) -> bool {
        let slot = lock(&self.slot);
        slot.ended && slot.result.is_none()
    }

    /// Upgradable exactly while the thread is running, including after the job was dropped.
    pub fn liveness(&self) -> Weak<()> {
        self.alive.clone()
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        // No join: the thread sees the flag at its next check and ends on its own.
        self.progress.cancel();
    }
}

/// Polls `done` every millisecond for up to `secs` seconds; true once it holds. For tests of
/// work on other threads (jobs, t-SNE), which must not fail because the machine is slow.
#[cfg(test)]
pub(crate) fn eventually(secs: u64, done: impl Fn() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn the_result_arrives_through_try_take() {
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        let job = Job::spawn(
            "test-job",
            Box::new(move || {
                w.fetch_add(1, Ordering::Relaxed);
            }),
            |p| {
                p.report(0.5);
                Some(6 * 7)
            },
        )
        .unwrap();
        let alive = job.liveness();
        assert!(eventually(10, || alive.upgrade().is_none()), "never ended");
        assert!(!job.is_finished(), "finished before its result was taken");
        assert_eq!(job.try_take(), Some(42));
        assert_eq!(job.try_take(), None, "a result is taken once");
        assert!(job.is_finished());
        assert_eq!(job.progress(), 0.5);
        // One wake for the report, one for the result.
        assert_eq!(woken.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn cancel_ends_the_work_without_a_result() {
        let job: Job<u32> = Job::spawn("test-job", Box::new(|| {}), |p| {
            while !p.is_cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            None
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert!(!job.is_finished(), "ended before it was cancelled");
        job.cancel();
        assert!(
            eventually(10, || job.is_finished()),
            "cancel did not end it"
        );
        assert_eq!(job.try_take(), None);
    }

    #[test]
    fn a_panicking_job_finishes() {
        let job: Job<u32> =
            Job::spawn("test-job", Box::new(|| {}), |_| panic!("deliberate")).unwrap();
        assert!(eventually(10, || job.is_finished()), "never finished");
        assert_eq!(job.try_take(), None);
    }

    #[test]
    fn dropping_a_busy_job_does_not_wait_for_it() {
        // Work that looks at the flag only every 300 ms, like a long step between checks.
        let job: Job<u32> = Job::spawn("test-job", Box::new(|| {}), |p| {
            while !p.is_cancelled() {
                std::thread::sleep(Duration::from_millis(300));
            }
            None
        })
        .unwrap();
        let alive = job.liveness();
        std::thread::sleep(Duration::from_millis(20));
        assert!(alive.upgrade().is_some(), "ended before the drop");
        let t0 = Instant::now();
        drop(job);
        let drop_time = t0.elapsed();
        eprintln!("drop took {drop_time:?}");
        assert!(
            drop_time < Duration::from_millis(50),
            "drop took {drop_time:?}"
        );
        assert!(
            eventually(10, || alive.upgrade().is_none()),
            "the detached thread never ended"
        );
    }

    #[test]
    fn reports_wake_at_most_every_interval() {
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        let progress = Progress::new(Box::new(move || {
            w.fetch_add(1, Ordering::Relaxed);
        }));
        let t0 = Instant::now();
        for i in 0..10_000 {
            assert!(progress.report(i as f32 / 10_000.0));
        }
        let bound = 1 + (t0.elapsed().as_micros() / WAKE_INTERVAL.as_micros()) as usize;
        let n = woken.load(Ordering::Relaxed);
        assert!(
            (1..=bound).contains(&n),
            "{n} wakes, at most {bound} expected"
        );
        progress.cancel();
        assert!(!progress.report(1.0));
        assert_eq!(progress.fraction(), 1.0);
    }
}
