//! Builds PostgreSQL's own parser (libpg_query's extract of PostgreSQL 18, with its PL/pgSQL grammar,
//! vendored under vendor/libpg_query) with the C compiler, and migrate-safe's two shims over it: the
//! grammar gate (`shim/grammar_check.c`, `src/source/grammar.rs`) and the reader of DO block bodies
//! (`shim/plpgsql_statements.c`, `src/source/plpgsql.rs`). No bindgen: the two functions migrate-safe
//! calls are declared by hand, so the build needs gcc (or clang) and nothing else — no libclang.

fn main() {
    let root = std::path::Path::new("vendor/libpg_query");
    println!("cargo:rerun-if-changed=vendor/libpg_query");
    let mut build = cc::Build::new();
    let postgres: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("src/postgres"))
        .expect("vendor/libpg_query/src/postgres")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        // Platform-specific variants the target does not need.
        .filter(|p| !p.to_string_lossy().contains("aarch64") || cfg!(target_arch = "aarch64"))
        .collect();
    build
        .files(postgres)
        .file(root.join("src/pg_query.c"))
        .file(root.join("shim/grammar_check.c"))
        .file(root.join("shim/plpgsql_statements.c"))
        .include(root)
        .include(root.join("src/postgres/include"))
        .include(root.join("src/include"))
        .include(root.join("src"))
        .warnings(false)
        .flag_if_supported("-fno-strict-aliasing")
        .flag_if_supported("-fwrapv")
        .compile("pg_grammar");
}
