#!/usr/bin/env node
// The `migrate-safe` launcher: finds the prebuilt binary in the platform package npm installed as an
// optional dependency (chosen by its `os` and `cpu`), runs it with the same arguments, stdin, stdout and
// stderr, and ends the way the binary ended: its exit code, or the signal that killed it. Signals sent to
// the launcher are passed on to the binary.
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");

// process.platform-process.arch -> the package holding that binary. Keep in step with
// optionalDependencies in package.json (npm/pack.sh writes both from npm/platforms/).
const PLATFORMS = {
  "linux-x64": "@migrate-safe/linux-x64",
  "linux-arm64": "@migrate-safe/linux-arm64",
  "darwin-x64": "@migrate-safe/darwin-x64",
  "darwin-arm64": "@migrate-safe/darwin-arm64",
  "win32-x64": "@migrate-safe/win32-x64",
};

function fail(message) {
  process.stderr.write(`migrate-safe (npm launcher): ${message}\n`);
  process.exit(2);
}

function version() {
  try {
    return require("../package.json").version;
  } catch {
    return "<version>";
  }
}

// glibc or musl: node's own report names the glibc it runs on, and nothing under musl.
function isMusl() {
  try {
    const report = process.report && process.report.getReport();
    return Boolean(report && report.header && !report.header.glibcVersionRuntime);
  } catch {
    return false;
  }
}

function findBinary() {
  const override = process.env.MIGRATE_SAFE_BINARY;
  if (override) {
    if (!fs.existsSync(override)) {
      fail(`MIGRATE_SAFE_BINARY is ${override}, which does not exist; unset it to use the installed package`);
    }
    return override;
  }
  const platform = `${process.platform}-${process.arch}`;
  const pkg = PLATFORMS[platform];
  if (!pkg) {
    fail(
      `no prebuilt binary for ${platform} (there are: ${Object.keys(PLATFORMS).join(", ")}).\n` +
        "  Build it from source with Rust: cargo install --locked --git <the migrate-safe repository> migrate-safe,\n" +
        "  then run that binary, or point MIGRATE_SAFE_BINARY at it."
    );
  }
  let dir;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    // npm skips the linux packages (built for glibc) under musl: say that, not "reinstall".
    if (platform.startsWith("linux-") && isMusl()) {
      fail(
        `no prebuilt binary for ${platform} with musl libc (Alpine): the linux packages are built for glibc.\n` +
          "  Use a glibc-based image (e.g. node:20-slim), or build from source with Rust:\n" +
          "  cargo install --locked --git <the migrate-safe repository> migrate-safe, and point MIGRATE_SAFE_BINARY at it."
      );
    }
    fail(
      `the package holding the binary for ${platform}, ${pkg}, is not installed.\n` +
        "  npm installs it with migrate-safe as an optional dependency; it is missing when optional dependencies\n" +
        "  were left out (--omit=optional, --no-optional) or the lock file was written on another platform.\n" +
        `  Fix: npm install --save-dev migrate-safe@${version()} ${pkg}@${version()}\n` +
        "  (or reinstall without --omit=optional; MIGRATE_SAFE_BINARY=/path/to/migrate-safe runs a binary of your own)."
    );
  }
  const binary = path.join(dir, "bin", process.platform === "win32" ? "migrate-safe.exe" : "migrate-safe");
  if (!fs.existsSync(binary)) {
    fail(`${pkg} is installed at ${dir} but holds no ${path.basename(binary)}; reinstall it: npm install ${pkg}@${version()}`);
  }
  return binary;
}

const binary = findBinary();
const child = spawn(binary, process.argv.slice(2), { stdio: "inherit", windowsHide: true });

// Pass signals on. (A Ctrl-C in a terminal reaches both processes; migrate-safe handles a second one.)
const forwarded = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
const handlers = {};
for (const signal of forwarded) {
  handlers[signal] = () => {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  };
  process.on(signal, handlers[signal]);
}

child.on("error", (error) => {
  fail(`cannot run ${binary}: ${error.message}`);
});

child.on("exit", (code, signal) => {
  if (signal) {
    // End the same way, so the shell and CI see the same status (128 + signal number).
    for (const s of forwarded) process.removeListener(s, handlers[s]);
    process.kill(process.pid, signal);
    // A signal that does not end a node process by default: say how the binary ended.
    setTimeout(() => process.exit(128 + (require("os").constants.signals[signal] || 0)), 100);
    return;
  }
  process.exit(code === null ? 2 : code);
});
