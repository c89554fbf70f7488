//! Cheap checks of the architecture's invariants (see ARCHITECTURE.md).

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn files_under(sub: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let dir = root.join(sub);
    if dir.is_dir() {
        rust_files(&dir, &mut files);
    } else if dir.with_extension("rs").exists() {
        files.push(dir.with_extension("rs"));
    }
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.display().to_string(), text)
        })
        .collect()
}

#[test]
fn engine_never_imports_egui_and_ui_never_imports_burn() {
    // The studio's run model is plain state too, so it can be tested without a window.
    for sub in [
        "data",
        "model",
        "train",
        "settings",
        "protocol",
        "latent",
        "jobs",
        "render",
        "sound",
        "app/run_model",
    ] {
        for (path, text) in files_under(sub) {
            for ui_crate in ["egui", "eframe", "egui_plot", "rfd"] {
                assert!(
                    !text.contains(&format!("{ui_crate}::"))
                        && !text.contains(&format!("use {ui_crate}")),
                    "{path} imports {ui_crate}"
                );
            }
        }
    }
    for sub in [
        "app", "data", "settings", "protocol", "latent", "jobs", "render", "sound",
    ] {
        for (path, text) in files_under(sub) {
            assert!(!text.contains("burn::"), "{path} imports burn");
        }
    }
}

#[test]
fn panels_render_samples_without_knowing_their_modality() {
    // What a sample looks like is `render`'s business: a panel that matched on the modality
    // would be the start of a parallel copy of the panels per modality.
    for (path, text) in files_under("app") {
        for probe in [
            "SampleShape::Image",
            "SampleShape::Series",
            ".image()",
            ".series()",
            "ImageShape",
        ] {
            let allowed = path.ends_with("run_model.rs") && probe == "ImageShape";
            assert!(
                allowed || !text.contains(probe),
                "{path} uses {probe}: render samples through crate::render"
            );
        }
    }
}

#[test]
fn threads_are_spawned_only_by_the_worker_and_jobs() {
    let mut all = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut all);
    for path in all {
        let text = std::fs::read_to_string(&path).unwrap();
        let spawns = text.contains("thread::spawn") || text.contains("thread::Builder");
        let allowed = path.ends_with("train/worker.rs") || path.ends_with("src/jobs.rs");
        assert!(!spawns || allowed, "{} spawns a thread", path.display());
    }
}

#[test]
fn every_module_says_what_it_owns() {
    let mut all = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut all);
    for path in all {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} lacks a //! header",
            path.display()
        );
    }
}
