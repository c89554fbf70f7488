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
use crate::data::{self, DataSpec, DataSplit};
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

impl Trainer {
    /// Starts the training thread, idle until it receives `Command::Start`.
    pub fn spawn(device: DeviceChoice, waker: Waker) -> std::io::Result<Self> {
        let (cmd_tx, cmd_rx) = mpsc::channel();
        let (ev_tx, ev_rx) = mpsc::channel();
        let token = Arc::new(());
        let alive = Arc::downgrade(&token);
        let thread = std::thread::Builder::new()
            .name("latentlab-trainer".to_string())
            .spawn(move || {
                let _token = token;
                worker_loop(device, cmd_rx, ev_tx, waker)
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
    choice: DeviceChoice,
    mut commands: Receiver<Command>,
    events: Sender<RunEvent>,
    waker: Waker,
) {
    let mut datasets: HashMap<(String, u64), DataSplit> = HashMap::new();
    let mut selected: Option<SelectedDevice> = None;
    while let Ok(cmd) = commands.recv() {
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
        if !datasets.contains_key(&key) {
            match data::load(&config.data, config.seed) {
                Ok(d) => {
                    datasets.insert(key.clone(), d);
                }
                Err(e) => {
                    emit(Event::Failed {
                        step: 0,
                        message: format!("cannot load dataset {}: {e}", config.data),
                    });
                    continue;
                }
            }
        }
        let data = &datasets[&key];
        for w in &data.warnings {
            emit(Event::Warning(w.clone()));
        }
        let device = match &selected {
            Some(d) => d,
            None => match device::select(choice) {
                Ok(d) => selected.insert(d),
                Err(e) => {
                    emit(Event::Failed {
                        step: 0,
                        message: e.to_string(),
                    });
                    continue;
                }
            },
        };
        let _ = super::run(
            &request,
            data,
            device,
            &Autosave::default(),
            &mut emit,
            &mut commands,
        );
    }
}

/// Built-in data ignores the seed (its split is fixed), so it is cached once.
fn data_seed(spec: &DataSpec, seed: u64) -> u64 {
    match spec {
        DataSpec::Idx { .. } | DataSpec::Csv { .. } => seed,
        _ => 0,
    }
}
