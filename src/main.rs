//! The `latentlab` binary: the studio, or a headless command (see `latentlab --help`).

fn main() -> std::process::ExitCode {
    latentlab::cli::main()
}
