//! Settings files: an experiment as a small TOML file (`latentlab --settings FILE`, the
//! studio's **Save settings…** / **Open settings…**).
//!
//! The file holds the fields of [`TrainConfig`] by their names; `data` may also be spelt as on
//! the command line (`data = "folder:photos"`, `data = "fashion"`). Fields left out take the
//! defaults of the file's model kind (so `model.kind = "Vae"` alone gives the VAE's reference
//! settings), an unknown field is an error naming it (a typo never passes silently), and the
//! result is validated like any other configuration. A saved file writes every field.
//!
//! ```toml
//! epochs = 20
//! lr = 0.002
//! data = "Fashion"
//!
//! [model]
//! kind = "Vae"
//! latent = 2
//! ```

use std::path::Path;

use serde::Deserialize;

use super::{BaseNet, ModelKind, SparsityKind, TrainConfig};

/// What a lesson adds to a settings file: a `[lesson]` table the studio shows beside the run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub title: String,
    /// What to look at and what to try next, in plain words.
    pub text: String,
    /// Where the lesson stands in the menu (lower first).
    #[serde(default)]
    pub order: u32,
}

/// A settings file read: the configuration, and the lesson text when it is a lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsFile {
    pub config: TrainConfig,
    pub lesson: Option<Lesson>,
}

/// The text of a settings file for `config`, with `lesson`'s text when one is shown (a
/// teacher's edited lesson saves as a lesson).
pub fn to_text(config: &TrainConfig, lesson: Option<&Lesson>) -> Result<String, String> {
    let mut body = toml::to_string_pretty(config).map_err(|e| e.to_string())?;
    if let Some(l) = lesson {
        let mut table = toml::Table::new();
        table.insert("title".into(), l.title.clone().into());
        table.insert("text".into(), l.text.clone().into());
        table.insert("order".into(), i64::from(l.order).into());
        let mut outer = toml::Table::new();
        outer.insert("lesson".into(), table.into());
        body.push('\n');
        body.push_str(&toml::to_string_pretty(&outer).map_err(|e| e.to_string())?);
    }
    Ok(format!(
        "# Latent Lab settings: open with `latentlab --settings FILE` or the studio's\n\
         # Open settings. Fields left out take the model kind's defaults.\n\n{body}"
    ))
}

/// Reads a settings file's text (see the module documentation); `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<SettingsFile, String> {
    let mut table: toml::Table = text.parse().map_err(|e| format!("{origin}: {e}"))?;
    let lesson = table
        .remove("lesson")
        .map(|v| v.try_into::<Lesson>())
        .transpose()
        .map_err(|e| format!("{origin}: lesson: {e}"))?;
    // The command line's spelling of a data source, as the serialised form.
    if let Some(toml::Value::String(spelt)) = table.get("data")
        && let Ok(spec) = spelt.parse::<crate::data::DataSpec>()
    {
        let value = toml::Value::try_from(&spec).map_err(|e| format!("{origin}: data: {e}"))?;
        table.insert("data".into(), value);
    }
    let model = table.get("model").and_then(|m| m.as_table());
    let pick = |key: &str| model.and_then(|m| m.get(key)).cloned();
    let field = |what: &str, e: toml::de::Error| format!("{origin}: model.{what}: {e}");
    let kind: ModelKind = match pick("kind") {
        Some(v) => v.try_into().map_err(|e| field("kind", e))?,
        None => ModelKind::Dense,
    };
    let base: BaseNet = match pick("base") {
        Some(v) => v.try_into().map_err(|e| field("base", e))?,
        None => BaseNet::Dense,
    };
    let sparsity: SparsityKind = match pick("sparsity") {
        Some(v) => v.try_into().map_err(|e| field("sparsity", e))?,
        None => SparsityKind::L1,
    };
    let defaults = TrainConfig::for_kind(kind, base, sparsity);
    let mut merged = toml::Table::try_from(&defaults).map_err(|e| e.to_string())?;
    merge(&mut merged, table, "", origin)?;
    let config: TrainConfig = toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| format!("{origin}: {e}"))?;
    let config = config.validate().map_err(|e| format!("{origin}: {e}"))?;
    Ok(SettingsFile { config, lesson })
}

/// Reads a settings file.
pub fn read(path: &Path) -> Result<SettingsFile, String> {
    crate::data::check_file_size(path).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text, &path.display().to_string())
}

/// Lays `file` over `into`: a table field merges key by key where the default is a table
/// of fields (`model`, `noise`); anything else replaces whole (a data source with its own
/// fields). A key the defaults do not have is an error.
fn merge(
    into: &mut toml::Table,
    file: toml::Table,
    prefix: &str,
    origin: &str,
) -> Result<(), String> {
    for (key, value) in file {
        let name = format!("{prefix}{key}");
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(v)) if is_struct(&key) => {
                merge(inner, v, &format!("{name}."), origin)?;
            }
            (Some(slot), v) => *slot = v,
            (None, _) => {
                return Err(format!(
                    "{origin}: unknown setting `{name}` (known here: {})",
                    into.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// Fields whose default is a table of fields to merge into (not an enum with data).
fn is_struct(key: &str) -> bool {
    matches!(key, "model" | "noise")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataSpec, Fit, FolderOptions};

    #[test]
    fn a_saved_file_reads_back_as_the_same_configuration() {
        let mut config = TrainConfig::for_kind(ModelKind::Sparse, BaseNet::Conv, SparsityKind::Kl);
        config.data = DataSpec::Folder {
            dir: "/data/my photos".into(),
            options: FolderOptions {
                size: 48,
                grey: true,
                fit: Fit::Letterbox,
            },
        };
        config.lr = 3e-4;
        config.epochs = 7;
        let text = to_text(&config, None).unwrap();
        assert!(text.contains("lr = 0.0003"), "{text}");
        let read = parse(&text, "saved.toml").unwrap();
        assert_eq!((read.config.clone(), read.lesson), (config.clone(), None));
        let lesson = Lesson {
            title: "Photos".into(),
            text: "Look at: \"quotes\"\nand lines.".into(),
            order: 3,
        };
        let read = parse(&to_text(&config, Some(&lesson)).unwrap(), "l.toml").unwrap();
        assert_eq!((read.config, read.lesson), (config, Some(lesson)));
    }

    #[test]
    fn fields_left_out_take_the_kinds_defaults() {
        let c = parse("epochs = 3\n[model]\nkind = \"Vae\"\n", "f.toml")
            .unwrap()
            .config;
        let vae = TrainConfig::for_kind(ModelKind::Vae, BaseNet::Dense, SparsityKind::L1);
        assert_eq!(c.model, vae.model);
        assert_eq!((c.epochs, c.beta), (3, vae.beta));
        let c = parse("data = \"Fashion\"\n", "f.toml").unwrap().config;
        assert_eq!(c.data, DataSpec::Fashion);
        // The command line's spelling, and a data table without its options.
        let c = parse("data = \"folder:my photos\"\n", "f.toml")
            .unwrap()
            .config;
        let folder = DataSpec::Folder {
            dir: "my photos".into(),
            options: FolderOptions::default(),
        };
        assert_eq!(c.data, folder);
        let c = parse("[data.Folder]\ndir = \"my photos\"\n", "f.toml")
            .unwrap()
            .config;
        assert_eq!(c.data, folder);
        assert_eq!(c.model, TrainConfig::default().model);
    }

    #[test]
    fn typos_bad_values_and_broken_syntax_are_refused_with_the_file_and_field() {
        for (text, expected) in [
            ("latnet = 2\n", "f.toml: unknown setting `latnet`"),
            ("[model]\nlatnet = 2\n", "unknown setting `model.latnet`"),
            ("[model]\nkind = \"Transformer\"\n", "model.kind"),
            ("[model]\nlatent = 0\n", "latent size is 0"),
            ("lr = -1.0\n", "learning rate"),
            ("lr = \"fast\"\n", "f.toml"),
            ("epochs = [\n", "f.toml"),
            ("[lesson]\ntitle = \"t\"\n", "lesson: missing field `text`"),
            (
                "[lesson]\ntitle = \"t\"\ntext = \"x\"\ncolour = 1\n",
                "unknown field `colour`",
            ),
        ] {
            let e = parse(text, "f.toml").unwrap_err();
            assert!(e.contains(expected), "{text:?}: {e}");
        }
    }
}
