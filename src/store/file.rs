//! Reading the files migrate-safe is given, safely: only regular files (a FIFO would hang the read, a
//! link to `/dev/zero` would never end), at most [`MAX_FILE_BYTES`], valid UTF-8 without NUL bytes
//! (PostgreSQL rejects a NUL in a query: a file holding one can never be applied).

use std::fs;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The largest file read: far above any migration (the largest real baseline seen is a few MB), far
/// below what would exhaust memory.
pub const MAX_FILE_BYTES: u64 = 128 * 1024 * 1024;

/// The bytes of `path`, which must be a regular file (a symlink to one is followed) of at most
/// [`MAX_FILE_BYTES`]. Opening does not block on a FIFO; anything but a regular file is refused
/// before a byte is read.
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{}, not a regular file: migrate-safe reads only regular files (a link to a device or a pipe is refused)",
                kind_of(&metadata)
            ),
        ));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large(metadata.len()));
    }
    // Sized from the metadata, but never trusting it: a file that grows while read stops at the limit.
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn too_large(size: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!(
            "{} MiB or more, larger than the {} MiB migrate-safe reads per file",
            size / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
}

fn kind_of(metadata: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if metadata.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// The SQL text of `path`: [`read_regular`], then [`decode_sql`].
pub fn read_sql(path: &Path) -> Result<String> {
    let bytes = read_regular(path).map_err(|e| Error::io(path, e))?;
    decode_sql(path, bytes)
}

/// A text file's contents that may be missing or unreadable without it being an error (project
/// files looked for on the way: `.env`, `package.json`, a Prisma schema): `None` then, never a hang.
pub fn read_optional_text(path: &Path) -> Option<String> {
    String::from_utf8(read_regular(path).ok()?).ok()
}

/// A file's text; invalid UTF-8 and NUL bytes are errors naming the line and column.
pub fn decode_sql(path: &Path, bytes: Vec<u8>) -> Result<String> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
        let (line, column) = line_column(valid, offset);
        Error::NotUtf8 {
            path: path.to_path_buf(),
            line,
            column,
            offset,
        }
    })?;
    if let Some(offset) = text.find('\0') {
        let (line, column) = line_column(&text, offset);
        return Err(Error::NulByte {
            path: path.to_path_buf(),
            line,
            column,
        });
    }
    Ok(text)
}

/// Byte offset where each line of `text` starts (line 1 at index 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// 1-based line and column (in characters) of byte `offset` in `text` (clamped to its end).
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_byte_is_refused_with_its_place() {
        let error = decode_sql(Path::new("m.sql"), b"SELECT 1;\nSELECT '\0';\n".to_vec())
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("m.sql:2:9: "), "{error}");
        assert!(error.contains("NUL"), "{error}");
    }

    #[test]
    fn devices_and_directories_are_refused_before_reading() {
        let error = read_regular(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("a character device, not a regular file"),
            "{error}"
        );
        let error = read_regular(Path::new("/")).unwrap_err().to_string();
        assert!(error.contains("a directory"), "{error}");
    }
}
