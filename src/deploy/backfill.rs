//! A batched backfill's progress, read from the notice its `DO` block raises after each batch
//! (`migrate-safe backfill of line 4 on "Post": 3000 of ~350000 rows walked, 2995 changed`, written by
//! `rules::backfill`): shown while it runs (a bar on a terminal, a line every few seconds elsewhere)
//! and kept for the report.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// What the last notice of a backfill said, and how fast it went.
#[derive(Debug, Clone, Serialize)]
pub struct BackfillFigures {
    /// Rows (or pages, for a table walked by `ctid`) walked so far.
    pub walked: u64,
    /// The planner's estimate of the table's size when the backfill started.
    pub estimate: u64,
    /// `rows` or `pages`.
    pub unit: String,
    /// Rows the batches changed.
    pub changed: u64,
    pub seconds: f64,
    /// Walked per second.
    pub rate: f64,
}

pub use crate::rules::backfill::parse_notice as parse;

/// The progress of the backfill deploy is running, fed by the connection's notices.
#[derive(Clone, Default)]
pub struct Tracker {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    started: Option<Instant>,
    last: Option<BackfillFigures>,
    shown_at: Option<Instant>,
    bar: Option<indicatif::ProgressBar>,
}

/// How often a line is printed where stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

impl Tracker {
    /// A backfill starts: its notices are read from now on.
    pub fn start(&self, migration: &str) {
        let mut state = self.state.lock().expect("progress lock");
        *state = State {
            started: Some(Instant::now()),
            ..State::default()
        };
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "  {prefix} [{bar:30}] {pos}/{len} {msg} ({per_sec}, {eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_prefix(migration.to_string());
            state.bar = Some(bar);
        }
    }

    /// A notice of the connection: a backfill's progress, when it is one and a backfill runs.
    pub fn notice(&self, message: &str) {
        let Some((walked, estimate, unit, changed)) = parse(message) else {
            return;
        };
        let mut state = self.state.lock().expect("progress lock");
        let Some(started) = state.started else {
            return;
        };
        let seconds = started.elapsed().as_secs_f64();
        let figures = BackfillFigures {
            walked,
            estimate,
            rate: if seconds > 0.0 {
                walked as f64 / seconds
            } else {
                0.0
            },
            unit,
            changed,
            seconds,
        };
        if let Some(bar) = &state.bar {
            bar.set_length(figures.estimate.max(figures.walked));
            bar.set_position(figures.walked);
            bar.set_message(format!(
                "{} walked, {} changed",
                figures.unit, figures.changed
            ));
        } else if state.shown_at.is_none_or(|at| at.elapsed() >= LINE_EVERY) {
            eprintln!("  backfill: {}", line(&figures));
            state.shown_at = Some(Instant::now());
        }
        state.last = Some(figures);
    }

    /// The backfill ended: its last figures.
    pub fn finish(&self) -> Option<BackfillFigures> {
        let mut state = self.state.lock().expect("progress lock");
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
        state.started = None;
        state.last.take()
    }
}

/// `120000 of ~2000000 rows walked (6 %), 118000 changed, 40000 rows/s, about 47 s left`.
pub fn line(f: &BackfillFigures) -> String {
    let share = if f.estimate > 0 {
        format!(" ({:.0} %)", 100.0 * f.walked as f64 / f.estimate as f64)
    } else {
        String::new()
    };
    let left = if f.rate > 0.0 && f.estimate > f.walked {
        format!(
            ", about {:.0} s left",
            (f.estimate - f.walked) as f64 / f.rate
        )
    } else {
        String::new()
    };
    format!(
        "{} of ~{} {} walked{share}, {} changed, {:.0} {}/s{left}",
        f.walked, f.estimate, f.unit, f.changed, f.rate, f.unit
    )
}
