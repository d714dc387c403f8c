//! Progress for long runs (a whole history, seeding rows): a bar on stderr when it is a terminal,
//! nothing otherwise, so pipes and CI logs stay clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub fn bar(length: usize, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() || length < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length as u64);
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(what.to_string());
    bar
}
