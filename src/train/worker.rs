//! The trainer as an actor: a handle owning a command sender and a named thread that runs
//! [`super::run`]. Dropping the handle stops the run and joins the thread. Also
//! [`on_training_pool`], the thread pool a training loop runs in.
//!
//! One of the two files that spawn threads (with `crate::jobs`, for background jobs).

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use super::{Autosave, DeviceChoice, SelectedDevice, device};
use crate::data::{self, DataSpec, DataSplit, LoadError};
use crate::protocol::{Command, Event, RunEvent};

/// Called after each event is sent, e.g. `ctx.request_repaint()`.
pub use crate::jobs::Waker;

/// Runs `f` (a training loop) on a thread of a fresh rayon pool as large as the global one,
/// while the caller waits, and returns its result.
///
/// The matrix products and the fused optimizer split their work across the current pool. A
/// loop on a thread outside the pool would be one busy thread more than the pool has, and on
/// 2 cores that oversubscription cost 40 % of the throughput (bench/NOTES.md). The pool is the
/// run's own, not the global one, so a paused run (blocked on its commands) never holds a
/// thread that other rayon work (t-SNE, large decodes on the UI thread) waits for.
pub fn on_training_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .thread_name(|i| format!("latentlab-train-{i}"))
        .build();
    match pool {
        Ok(pool) => pool.install(f),
        // No threads to be had: train on this one, with gemm on the global pool as before.
        Err(_) => f(),
    }
}

/// Handle to the training thread.
pub struct Trainer {
    commands: Option<Sender<Command>>,
    events: Receiver<RunEvent>,
    thread: Option<JoinHandle<()>>,
    /// Held by the thread until it returns.
    alive: Weak<()>,
}

/// How the worker loads a data set: [`data::load_with_progress`], or a stand-in in tests.
type Loader =
    fn(&DataSpec, u64, &mut dyn FnMut(usize, usize) -> bool) -> Result<DataSplit, LoadError>;

impl Trainer {
    /// Starts the training thread, idle until it receives `Command::Start`.
    pub fn spawn(device: DeviceChoice, waker: Waker) -> std::io::Result<Self> {
        Self::spawn_with(device, data::load_with_progress, waker)
    }

    fn spawn_with(device: DeviceChoice, load: Loader, waker: Waker) -> std::io::Result<Self> {
        let (cmd_tx, cmd_rx) = mpsc::channel();
        let (ev_tx, ev_rx) = mpsc::channel();
        let token = Arc::new(());
        let alive = Arc::downgrade(&token);
        let thread = std::thread::Builder::new()
            .name("latentlab-trainer".to_string())
            .spawn(move || {
                let _token = token;
                worker_loop(device, load, cmd_rx, ev_tx, waker)
            })?;
        Ok(Self {
            commands: Some(cmd_tx),
            events: ev_rx,
            thread: Some(thread),
            alive,
        })
    }

    /// Sends a command; ignored when the thread has gone (it reported why before leaving).
    pub fn send(&self, command: Command) {
        if let Some(tx) = &self.commands {
            let _ = tx.send(command);
        }
    }

    /// Upgradable exactly while the training thread is running.
    pub fn liveness(&self) -> Weak<()> {
        self.alive.clone()
    }

    /// The next pending event, without blocking.
    pub fn try_recv(&self) -> Option<RunEvent> {
        self.events.try_recv().ok()
    }

    /// Waits up to `timeout` for the next event.
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<RunEvent> {
        self.events.recv_timeout(timeout).ok()
    }
}

impl Drop for Trainer {
    fn drop(&mut self) {
        // Closing the channel makes the loop stop at its next step and the thread return.
        self.commands.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn worker_loop(
    mut choice: DeviceChoice,
    load: Loader,
    mut commands: Receiver<Command>,
    events: Sender<RunEvent>,
    waker: Waker,
) {
    let mut datasets: HashMap<(String, u64), DataSplit> = HashMap::new();
    let mut selected: Option<SelectedDevice> = None;
    // A Start that arrived while data was loading: it cancelled that load and runs next.
    let mut pending: Option<Command> = None;
    while let Some(cmd) = pending.take().or_else(|| commands.recv().ok()) {
        let Command::Start(request) = cmd else {
            // Pause, resume, stop and the rest mean nothing without a run.
            continue;
        };
        let run = request.run_id;
        let mut emit = |event: Event| {
            let _ = events.send(RunEvent { run, event });
            waker();
        };
        let config = &request.config;
        // Debug, not Display: a CSV's reading options are part of what was loaded.
        let key = (
            format!("{:?}", config.data),
            data_seed(&config.data, config.seed),
        );
        // Loading and device selection are guarded like the run itself: a panic in them
        // ends the run with its one terminal event and the worker waits for the next.
        if !datasets.contains_key(&key) {
            let began = std::time::Instant::now();
            let mut last_report = began;
            let mut progress = |done: usize, total: usize| {
                // Commands are read here only to cancel: a Stop ends the load, a
                // Start ends it and runs next; the rest mean nothing before a run.
                while let Ok(cmd) = commands.try_recv() {
                    match cmd {
                        Command::Stop => return false,
                        Command::Start(_) => {
                            pending = Some(cmd);
                            return false;
                        }
                        _ => {}
                    }
                }
                let now = std::time::Instant::now();
                if now.duration_since(last_report).as_millis() >= 100 || done == total {
                    last_report = now;
                    emit(Event::Loading { done, total });
                }
                true
            };
            let loaded = guarded("loading the data", || {
                load(&config.data, config.seed, &mut progress)
            });
            match loaded {
                Ok(Ok(d)) => {
                    datasets.insert(key.clone(), d);
                }
                Ok(Err(LoadError::Cancelled)) => {
                    emit(Event::Finished(crate::protocol::RunEnd {
                        step: 0,
                        epoch: 0,
                        elapsed_secs: began.elapsed().as_secs_f64(),
                        test_mse: None,
                        stopped: true,
                    }));
                    continue;
                }
                Ok(Err(e)) => {
                    emit(Event::Failed {
                        step: 0,
                        message: format!("cannot load dataset {}: {e}", config.data),
                    });
                    continue;
                }
                Err(message) => {
                    emit(Event::Failed { step: 0, message });
                    continue;
                }
            }
        }
        let data = &datasets[&key];
        emit(Event::DataReady(data.facts()));
        for w in &data.warnings {
            emit(Event::Warning(w.clone()));
        }
        if let Some(asked) = request.device.as_ref().filter(|&c| *c != choice) {
            choice = asked.clone();
            selected = None;
        }
        let device = match &selected {
            Some(d) => d,
            None => match guarded("choosing the device", || device::select(choice.clone())) {
                Ok(Ok(d)) => selected.insert(d),
                Ok(Err(e)) => {
                    emit(Event::Failed {
                        step: 0,
                        message: e.to_string(),
                    });
                    continue;
                }
                Err(message) => {
                    emit(Event::Failed { step: 0, message });
                    continue;
                }
            },
        };
        let _ = super::run(
            &request,
            data,
            device,
            &Autosave {
                dir: request.checkpoint_dir.clone(),
            },
            &mut emit,
            &mut commands,
        );
    }
}

/// Runs `f`, turning a panic into a message naming what was being done.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        format!(
            "internal error while {what}: {}",
            super::panic_message(&*panic)
        )
    })
}

/// Built-in data ignores the seed (its split is fixed), so it is cached once.
fn data_seed(spec: &DataSpec, seed: u64) -> u64 {
    match spec {
        DataSpec::Idx { .. }
        | DataSpec::Csv { .. }
        | DataSpec::Wav { .. }
        | DataSpec::Folder { .. } => seed,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::StartRequest;
    use crate::settings::TrainConfig;
    use std::time::Duration;

    fn panicking_loader(
        _: &DataSpec,
        _: u64,
        _: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<DataSplit, LoadError> {
        panic!("the loader broke")
    }

    /// A panic while loading the data ends that run with one `Failed` naming it, and the
    /// worker lives on to answer the next start (it failed the same way, not silently).
    #[test]
    fn a_panic_while_loading_fails_the_run_and_the_worker_lives_on() {
        let trainer =
            Trainer::spawn_with(DeviceChoice::Cpu, panicking_loader, Box::new(|| {})).unwrap();
        for run in [1, 2] {
            trainer.send(Command::Start(Box::new(StartRequest {
                run_id: run,
                config: TrainConfig::default(),
                resume_from: None,
                start_paused: false,
                checkpoint_dir: None,
                fault: None,
                device: None,
            })));
            let event = trainer
                .recv_timeout(Duration::from_secs(30))
                .expect("an event");
            assert_eq!(event.run, run);
            let Event::Failed { step, message } = event.event else {
                panic!("expected Failed, got {:?}", event.event)
            };
            assert_eq!(step, 0);
            assert!(
                message.contains("while loading the data") && message.contains("the loader broke"),
                "{message}"
            );
        }
        assert!(
            trainer.liveness().upgrade().is_some(),
            "the worker is alive"
        );
    }

    /// Loads forever, reporting progress, until told to stop.
    fn endless_loader(
        _: &DataSpec,
        _: u64,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<DataSplit, LoadError> {
        for done in 0.. {
            if !progress(done, usize::MAX) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(LoadError::Cancelled)
    }

    /// A load reports its progress; a Stop cancels it and the run ends stopped at step 0; a
    /// Start during a load cancels it and loads for the new run.
    #[test]
    fn a_long_load_reports_progress_and_stop_or_a_new_start_cancels_it() {
        let trainer =
            Trainer::spawn_with(DeviceChoice::Cpu, endless_loader, Box::new(|| {})).unwrap();
        let start = |run| {
            Command::Start(Box::new(StartRequest {
                run_id: run,
                config: TrainConfig::default(),
                resume_from: None,
                start_paused: false,
                checkpoint_dir: None,
                fault: None,
                device: None,
            }))
        };
        let next = || {
            trainer
                .recv_timeout(Duration::from_secs(30))
                .expect("an event")
        };
        trainer.send(start(1));
        let e = next();
        assert!(matches!((e.run, e.event), (1, Event::Loading { .. })));
        trainer.send(start(2));
        let mut ended = Vec::new();
        let mut loading = Vec::new();
        while loading.is_empty() {
            let e = next();
            match e.event {
                Event::Finished(end) => ended.push((e.run, end.step, end.stopped)),
                Event::Loading { .. } if e.run == 2 => loading.push(2),
                Event::Loading { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(ended, [(1, 0, true)], "the first load was cancelled");
        trainer.send(Command::Stop);
        loop {
            let e = next();
            match e.event {
                Event::Loading { .. } => continue,
                Event::Finished(end) => {
                    assert_eq!((e.run, end.step, end.stopped), (2, 0, true));
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
