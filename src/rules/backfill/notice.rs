//! The notice each batch raises (written by [`super::Backfill::batches`]), read back.

/// What a batch's notice says: `(walked, estimate, unit, changed)`.
pub type NoticeFigures = (u64, u64, String, u64);

/// The notice each batch raises, read (`deploy` shows it, `check` times the batches by it).
pub fn parse_notice(notice: &str) -> Option<NoticeFigures> {
    notice_parts(notice).map(|(_, figures)| figures)
}

/// The table the notice names, as written, and its figures.
pub fn notice_parts(notice: &str) -> Option<(&str, NoticeFigures)> {
    let rest = notice.strip_prefix("migrate-safe backfill of line ")?;
    let (head, figures) = rest.rsplit_once(": ")?;
    let (_, table) = head.split_once(" on ")?;
    let words: Vec<&str> = figures.split_whitespace().collect();
    match words.as_slice() {
        [walked, "of", estimate, unit, "walked,", changed, "changed"] => Some((
            table,
            (
                walked.parse().ok()?,
                estimate.trim_start_matches('~').parse().ok()?,
                unit.to_string(),
                changed.parse().ok()?,
            ),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{notice_parts, parse_notice};

    #[test]
    fn reads_the_notice_the_batches_raise() {
        assert_eq!(
            parse_notice(
                "migrate-safe backfill of line 4 on \"Post\": 3000 of ~350000 rows walked, 2995 changed"
            ),
            Some((3000, 350_000, "rows".to_string(), 2995))
        );
        assert_eq!(
            notice_parts("migrate-safe backfill of line 12 on public.\"a: b\": 40 of ~400 pages walked, 0 changed").map(|(t, f)| (t, f.0)),
            Some(("public.\"a: b\"", 40))
        );
        assert_eq!(parse_notice("trigger \"x\" does not exist, skipping"), None);
    }
}
