//! Latent Lab: watch autoencoders learn.
//!
//! The engine (`data`, `model`, `train`) trains autoencoders with burn and reports through the
//! plain-data messages in [`protocol`]; the CLI (`cli`) and the desktop studio (`app`) drive it.
//! Entry points: [`train::run`] (a run, synchronously), [`train::worker::Trainer`] (a run on a
//! thread), [`data::load`], [`settings::TrainConfig`].

pub mod app;
pub mod cli;
pub mod data;
pub mod files;
pub mod jobs;
pub mod latent;
pub mod metrics;
pub mod model;
pub mod protocol;
pub mod render;
pub mod settings;
pub mod sound;
pub mod train;
