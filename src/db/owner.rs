//! Who made a scratch resource, so that a later run can tell what a dead run left behind: a throwaway
//! server's directory and a scratch database carry an owner stamp (host, boot, pid and the process's
//! start time, so a reused pid or a reboot is not mistaken for the owner). A resource whose owner is
//! gone is reaped by the next run that provisions a server; one from another host is left alone.

use std::path::Path;

/// The stamp's first word, so that a stamp is recognised among other comments.
const PREFIX: &str = "migrate-safe-owner";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub host: String,
    pub boot: String,
    pub pid: u32,
    /// The process's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22).
    pub start: u64,
}

/// Whether the owner of a resource is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    Dead,
    /// Another host (or a stamp this machine cannot check): never reaped.
    Unknown,
}

impl Owner {
    /// This process (read from /proc once).
    pub fn me() -> Self {
        static ME: std::sync::OnceLock<Owner> = std::sync::OnceLock::new();
        ME.get_or_init(|| {
            let pid = std::process::id();
            Owner {
                host: host_name(),
                boot: boot_id(),
                pid,
                start: start_time(pid).unwrap_or(0),
            }
        })
        .clone()
    }

    pub fn stamp(&self) -> String {
        format!(
            "{PREFIX} host={} boot={} pid={} start={}",
            self.host, self.boot, self.pid, self.start
        )
    }

    /// The owner a stamp names (the stamp may sit inside a longer text).
    pub fn parse(text: &str) -> Option<Self> {
        let at = text.find(PREFIX)?;
        let mut host = None;
        let mut boot = None;
        let mut pid = None;
        let mut start = None;
        for word in text[at + PREFIX.len()..].split_whitespace() {
            match word.split_once('=') {
                Some(("host", v)) => host = Some(v.to_string()),
                Some(("boot", v)) => boot = Some(v.to_string()),
                Some(("pid", v)) => pid = v.parse().ok(),
                Some(("start", v)) => start = v.parse().ok(),
                _ => break,
            }
        }
        Some(Owner {
            host: host?,
            boot: boot?,
            pid: pid?,
            start: start?,
        })
    }

    pub fn liveness(&self) -> Liveness {
        let me = Owner::me();
        if self.host != me.host || self.host.is_empty() {
            return Liveness::Unknown;
        }
        if self.boot != me.boot {
            return Liveness::Dead; // the machine rebooted since: nothing of that run survives
        }
        // A zombie (killed, not yet reaped by its parent) is gone too.
        match start_time(self.pid) {
            Some(start) if start == self.start && is_running(self.pid) => Liveness::Alive,
            _ => Liveness::Dead,
        }
    }

    /// The stamp of the resource in `dir` (its `owner` file).
    pub fn of_dir(dir: &Path) -> Option<Self> {
        Owner::parse(&std::fs::read_to_string(dir.join(OWNER_FILE)).ok()?)
    }

    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::write(dir.join(OWNER_FILE), self.stamp() + "\n")
    }
}

/// The file in a throwaway server's directory that names its owner.
pub const OWNER_FILE: &str = "owner";

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| std::env::var("HOSTNAME").unwrap_or_default())
        .replace(char::is_whitespace, "_")
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|b| b.trim().to_string())
        .unwrap_or_default()
}

/// When process `pid` started (clock ticks since boot); `None` when it does not exist.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether process `pid` exists (and is not a zombie).
pub fn is_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

/// The parent of process `pid`.
pub fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The command name of process `pid`.
pub fn command_of(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_stamp_round_trips() {
        let me = Owner::me();
        assert_eq!(
            Owner::parse(&format!("comment: {}", me.stamp())),
            Some(me.clone())
        );
        assert_eq!(me.liveness(), Liveness::Alive);
        let reused = Owner {
            start: me.start + 1,
            ..me.clone()
        };
        assert_eq!(
            reused.liveness(),
            Liveness::Dead,
            "a reused pid is not the owner"
        );
        let elsewhere = Owner {
            host: "another-host".into(),
            ..me
        };
        assert_eq!(elsewhere.liveness(), Liveness::Unknown);
    }
}
