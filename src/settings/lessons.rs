//! The built-in lessons: settings files with a `[lesson]` table in `assets/lessons/`, embedded
//! in the binary. A lesson is loaded in one click and says what to look at and what to try.

use super::file::{self, SettingsFile};

macro_rules! lesson {
    ($name:literal) => {
        (
            concat!("assets/lessons/", $name),
            include_str!(concat!("../../assets/lessons/", $name)),
        )
    };
}

const FILES: [(&str, &str); 10] = [
    lesson!("01-squeeze.toml"),
    lesson!("02-convolutions.toml"),
    lesson!("03-noise.toml"),
    lesson!("04-sparse.toml"),
    lesson!("05-generate.toml"),
    lesson!("06-fashion.toml"),
    lesson!("07-sequences.toml"),
    lesson!("08-style.toml"),
    lesson!("09-factors.toml"),
    lesson!("10-voices.toml"),
];

/// The lessons, in their order. A file that does not read as a lesson (a kind this build does
/// not have) is left out, not shown broken; the test below keeps every shipped one readable.
pub fn builtin() -> Vec<SettingsFile> {
    let mut lessons: Vec<SettingsFile> = FILES
        .iter()
        .filter_map(|(name, text)| file::parse(text, name).ok())
        .filter(|f| f.lesson.is_some())
        .collect();
    lessons.sort_by_key(|f| f.lesson.as_ref().map_or(u32::MAX, |l| l.order));
    lessons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_lesson_reads_with_its_text_and_in_order() {
        for (name, text) in FILES {
            let f = file::parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            let lesson = f.lesson.unwrap_or_else(|| panic!("{name}: no [lesson]"));
            assert!(
                !lesson.title.is_empty() && lesson.text.contains("Look at"),
                "{name}"
            );
        }
        let lessons = builtin();
        assert_eq!(lessons.len(), FILES.len());
        let titles: Vec<&str> = lessons
            .iter()
            .filter_map(|f| f.lesson.as_ref().map(|l| l.title.as_str()))
            .collect();
        assert_eq!(titles[0], "Squeeze digits through 2 numbers");
        assert_eq!(lessons[0].config.model.latent, 2);
    }
}
