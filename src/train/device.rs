//! Choosing where training runs: a real GPU through wgpu, or the Flex CPU backend.
//!
//! The wgpu runtime can be initialised once per process, so the probe runs once and is cached.

use std::sync::OnceLock;

use burn::tensor::Device;
use burn::tensor::wgpu::wgpu;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What the user asked for (`--device`): `auto`, `cpu`, `gpu` or `remote:ws://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DeviceChoice {
    /// A real GPU when one exists, otherwise the CPU.
    #[default]
    Auto,
    /// The Flex CPU backend.
    Cpu,
    /// A real GPU through wgpu; an error when there is none.
    Gpu,
    /// The first device of a `latentlab serve` server (burn's remote backend over WebSocket),
    /// by its URL; the token comes from `LATENTLAB_REMOTE_TOKEN`.
    Remote(String),
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "gpu" => Ok(DeviceChoice::Gpu),
            _ => match s.strip_prefix("remote:") {
                Some(url) if url.starts_with("ws://") && url.len() > 5 => {
                    Ok(DeviceChoice::Remote(url.to_string()))
                }
                _ => Err(format!(
                    "{s:?} is not a device: auto, cpu, gpu or remote:ws://HOST:PORT"
                )),
            },
        }
    }
}

/// As typed on the command line, so `parse` gives it back.
impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Gpu => f.write_str("gpu"),
            DeviceChoice::Remote(url) => write!(f, "remote:{url}"),
        }
    }
}

/// The environment variable that holds the token of a remote server (`latentlab serve`), so
/// that it never shows in a process list.
pub const REMOTE_TOKEN_VAR: &str = "LATENTLAB_REMOTE_TOKEN";

/// The device a run uses, with a description for people.
#[derive(Debug, Clone)]
pub struct SelectedDevice {
    pub device: Device,
    /// "CPU (Flex backend)" or "GPU: <adapter name> (<graphics API>)".
    pub description: String,
    pub is_gpu: bool,
}

impl SelectedDevice {
    pub fn cpu() -> Self {
        Self {
            device: Device::flex(),
            description: "CPU (Flex backend)".to_string(),
            is_gpu: false,
        }
    }
}

#[derive(Debug, Error)]
pub enum DeviceError {
    #[error("--device gpu was asked for, but no GPU is usable: {0}")]
    NoGpu(String),
    #[error("cannot train on the remote server {url}: {why}")]
    Remote { url: String, why: String },
}

/// Resolves a choice to a device; `Auto` never fails.
pub fn select(choice: DeviceChoice) -> Result<SelectedDevice, DeviceError> {
    match choice {
        DeviceChoice::Cpu => Ok(SelectedDevice::cpu()),
        DeviceChoice::Gpu => probe_gpu().clone().map_err(DeviceError::NoGpu),
        DeviceChoice::Auto => Ok(probe_gpu()
            .clone()
            .unwrap_or_else(|_| SelectedDevice::cpu())),
        DeviceChoice::Remote(url) => remote(&url),
    }
}

/// The first device of the remote server at `url` (`latentlab serve`); the autodiff graph stays
/// here, every tensor operation runs there, and each read-back is a network round trip.
#[cfg(feature = "remote")]
fn remote(url: &str) -> Result<SelectedDevice, DeviceError> {
    let fail = |why: String| DeviceError::Remote {
        url: url.to_string(),
        why,
    };
    let mut host = burn::tensor::remote::RemoteHost::websocket(url);
    if let Ok(token) = std::env::var(REMOTE_TOKEN_VAR) {
        host = host.with_credential(token);
    }
    let device = Device::remote_options(&host)
        .device_index(0)
        .init()
        .map_err(|e| fail(e.to_string()))?;
    Ok(SelectedDevice {
        device,
        description: format!("remote: {url}"),
        is_gpu: false,
    })
}

#[cfg(not(feature = "remote"))]
fn remote(url: &str) -> Result<SelectedDevice, DeviceError> {
    Err(DeviceError::Remote {
        url: url.to_string(),
        why: "this build has no remote backend; build it with `cargo build --release --features remote`"
            .to_string(),
    })
}

/// The one wgpu probe of this process: a device on a real (non-software) adapter, or why not.
fn probe_gpu() -> &'static Result<SelectedDevice, String> {
    static PROBE: OnceLock<Result<SelectedDevice, String>> = OnceLock::new();
    PROBE.get_or_init(|| {
        // Driver stacks have been seen to panic instead of returning an error; treat that as "no GPU".
        let attempt = std::panic::catch_unwind(|| Device::wgpu_options().init_with_setup());
        match attempt {
            Err(_) => Err("the wgpu driver panicked while looking for an adapter".to_string()),
            Ok(Err(e)) => Err(format!("no wgpu adapter: {e}")),
            Ok(Ok((device, setup))) => {
                let info = setup.adapter.get_info();
                if info.device_type == wgpu::DeviceType::Cpu && !software_allowed() {
                    Err(format!(
                        "the only adapter is a software renderer ({}), which is slower than the CPU backend",
                        info.name
                    ))
                } else {
                    Ok(SelectedDevice {
                        device,
                        description: format!("GPU: {} ({:?})", info.name, info.backend),
                        is_gpu: true,
                    })
                }
            }
        }
    })
}

/// `LATENTLAB_ALLOW_SOFTWARE_GPU=1` lets `--device gpu` use a software adapter (llvmpipe), so the
/// GPU code path can be checked on a machine without a GPU. It is slower than the CPU backend.
fn software_allowed() -> bool {
    std::env::var_os("LATENTLAB_ALLOW_SOFTWARE_GPU").is_some_and(|v| v == "1")
}
