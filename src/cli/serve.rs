//! `latentlab serve`: this machine's device as a remote backend for other machines' runs.

use anyhow::Context;
use burn::tensor::server::{RemoteServer, TokenAuthorizer, WebSocketTransport};

use crate::train::{DeviceChoice, device};

#[derive(Debug, clap::Args)]
pub struct ServeCmd {
    /// The port to listen on (WebSocket, every interface).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
}

/// Serves the device `--device` picks (a real GPU when there is one) until Ctrl+C. A token in
/// `LATENTLAB_REMOTE_TOKEN` is required: clients present the same one.
pub fn serve(cmd: ServeCmd, choice: DeviceChoice) -> anyhow::Result<()> {
    let token = std::env::var(device::REMOTE_TOKEN_VAR).with_context(|| {
        format!(
            "set {} to a secret token: clients must present it (WebSocket is unencrypted, so \
             serve on a trusted network)",
            device::REMOTE_TOKEN_VAR
        )
    })?;
    if matches!(choice, DeviceChoice::Remote(_)) {
        anyhow::bail!("a server serves its own device: --device auto, cpu or gpu");
    }
    let selected = device::select(choice)?;
    let authorizer = TokenAuthorizer::new(token).context("the token is empty")?;
    eprintln!(
        "serving {} on ws://0.0.0.0:{} (train elsewhere with --device remote:ws://THIS-HOST:{})",
        selected.description, cmd.port, cmd.port
    );
    RemoteServer::new([selected.device])
        .with_authorizer(authorizer)
        .serve(WebSocketTransport::new(cmd.port))
        .with_context(|| format!("cannot serve on port {}", cmd.port))
}
