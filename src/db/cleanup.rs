//! What must not outlive the process: scratch databases and throwaway servers. Everything created is
//! registered here; normal paths clean up through `Drop`, and Ctrl-C (SIGINT/SIGTERM) cleans up what is
//! still registered before exiting with status 130.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

enum Resource {
    Database {
        admin_url: String,
        name: String,
    },
    LocalServer {
        bin: PathBuf,
        data: PathBuf,
        run_as: Option<String>,
    },
}

static RESOURCES: Mutex<Vec<Resource>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// After Ctrl-C the handler drops the scratch databases, which breaks the main thread's connection; the
/// main thread must not report that as an error of its own, but wait for the handler to exit with 130.
pub fn wait_if_interrupted() {
    if INTERRUPTED.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}

fn install_handler() {
    HANDLER.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, Ordering::SeqCst);
            eprintln!("interrupted: dropping scratch databases and stopping throwaway servers");
            clean_all();
            std::process::exit(130);
        });
    });
}

pub fn register_database(admin_url: &str, name: &str) {
    install_handler();
    if let Ok(mut resources) = RESOURCES.lock() {
        resources.push(Resource::Database {
            admin_url: admin_url.into(),
            name: name.into(),
        });
    }
}

pub fn unregister_database(name: &str) {
    if let Ok(mut resources) = RESOURCES.lock() {
        resources.retain(|r| !matches!(r, Resource::Database { name: n, .. } if n == name));
    }
}

pub fn register_local_server(bin: &Path, data: &Path, run_as: Option<&str>) {
    install_handler();
    if let Ok(mut resources) = RESOURCES.lock() {
        resources.push(Resource::LocalServer {
            bin: bin.into(),
            data: data.into(),
            run_as: run_as.map(str::to_string),
        });
    }
}

pub fn unregister_local_server(data: &Path) {
    if let Ok(mut resources) = RESOURCES.lock() {
        resources.retain(|r| !matches!(r, Resource::LocalServer { data: d, .. } if d == data));
    }
}

fn clean_all() {
    let resources = match RESOURCES.lock() {
        Ok(mut resources) => std::mem::take(&mut *resources),
        Err(_) => return,
    };
    // Databases first (their servers may be among the local ones), newest first.
    for resource in resources.iter().rev() {
        if let Resource::Database { admin_url, name } = resource {
            super::drop_database(admin_url, name);
        }
    }
    for resource in resources.iter().rev() {
        if let Resource::LocalServer { bin, data, run_as } = resource {
            let _ = super::local::pg_command(bin, "pg_ctl", run_as.as_deref())
                .arg("-D")
                .arg(data)
                .args(["-m", "immediate", "-w", "stop"])
                .output();
            if let Some(dir) = data.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}
