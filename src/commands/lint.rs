//! `migrate-safe lint`: the CI gate. Findings in five formats; exit 1 at or above `--fail-on`.

use std::io::Write;

use crate::Outcome;
use crate::cli::{LintArgs, LintFormat};
use crate::error::Result;
use crate::lint::{Options, github, json, lint, markdown, sarif, text};
use crate::out::stdout;

pub fn run(args: &LintArgs, out: &mut dyn Write) -> Result<Outcome> {
    let options = Options {
        paths: args.paths.clone(),
        migrations: args.migrations.clone(),
        all: args.all,
        database_url: args.database_url.clone(),
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        fail_on: args.fail_on.map(Into::into),
        unsafe_fixes: args.unsafe_fixes,
        prisma_version: args.prisma.prisma_version.clone(),
        config: args.config.clone(),
    };
    let report = lint(&options)?;
    let written = match args.format {
        LintFormat::Text => text::write(&report, out, crate::report::text::use_color()),
        LintFormat::Json => json::write(&report, out),
        LintFormat::Github => github::write(&report, out),
        LintFormat::Sarif => sarif::write(&report, out),
        LintFormat::Markdown => markdown::write(&report, out),
    };
    stdout(written)?;
    Ok(if report.failed() {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
