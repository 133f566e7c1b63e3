//! A file whose written pages start going to disk while the rest is still being written.
//!
//! One mbox of a hundred thousand letters is half a gigabyte. Written whole and then synced, the
//! disk sits idle while letters are rendered and the run then waits for all of it (0.15 s of a
//! 0.85 s run here). Asking the kernel to start writing back each few megabytes as soon as they
//! are written (`sync_file_range`, which does not wait) lets the disk work alongside the render
//! threads, and the final `sync_all` finds little left to do. The file is as durable as before:
//! only that final sync is relied on. An mbox or HTML page now goes past the page cache where the
//! file system allows it (`src/direct.rs`, which writes through this type): then each request
//! finds nothing to start, at the cost of one system call per 8 MiB. The requests matter where
//! direct I/O is refused, for the last partial block, and for the one PDF of `--one-file`.

use std::fs::File;
use std::io::{self, Write};

/// Written bytes between two requests to start writeback.
const CHUNK: u64 = 8 << 20;

pub struct Writeback {
    file: File,
    written: u64,
    /// Everything before this offset has been handed to writeback.
    started: u64,
}

impl Writeback {
    pub fn new(file: File) -> Writeback {
        Writeback {
            file,
            written: 0,
            started: 0,
        }
    }

    /// Flushes nothing (callers flush their buffer first) and waits until the file is on disk.
    pub fn sync_all(self) -> io::Result<()> {
        self.file.sync_all()
    }

    fn start_writeback(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: a plain system call on a descriptor this struct owns; it reads no memory.
            // Its result is ignored on purpose: it is only a hint, and `sync_all` reports any
            // error that matters.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    self.started as libc::off64_t,
                    (self.written - self.started) as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        self.started = self.written;
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for Writeback {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.file.as_raw_fd()
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= CHUNK {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_written_is_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let mut w = Writeback::new(File::create(&path).unwrap());
        let block: Vec<u8> = (0..=255u8).cycle().take(3 << 20).collect();
        for _ in 0..7 {
            w.write_all(&block).unwrap();
        }
        assert!(w.started >= CHUNK, "writeback was started along the way");
        w.sync_all().unwrap();
        let back = std::fs::read(&path).unwrap();
        assert_eq!(back.len(), 7 * block.len());
        assert!(back.chunks(block.len()).all(|c| c == block));
    }
}
