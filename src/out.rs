//! What every command's output shares: writing to stdout, JSON documents, counting nouns.

/// A report written to stdout: `| head` closing the pipe is not an error worth a message.
pub fn stdout(result: std::io::Result<()>) -> crate::error::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| crate::error::Error::io("<stdout>", e)),
    }
}

/// `value` as one pretty-printed JSON document and a newline: every `--format json` report.
pub fn json(out: &mut dyn std::io::Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// `1 migration`, `2 migrations`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular() {
        assert_eq!(crate::out::count(1, "migration"), "1 migration");
        assert_eq!(crate::out::count(0, "migration"), "0 migrations");
        assert_eq!(crate::out::count(163, "migration"), "163 migrations");
    }
}
