//! The one output file of an mbox or HTML run, written past the page cache where the file system
//! allows it.
//!
//! An mbox of 100,000 letters is 545 MB. Written the ordinary way, the kernel copies every byte
//! into the page cache and keeps books on each page (delayed allocation, dirty tracking, then
//! writeback): 0.20 s of CPU here, a sixth of the run, taken from the two cores the render threads
//! need. Opened with `O_DIRECT`, the disk takes the bytes from this process's memory instead:
//! copying them into one aligned buffer and handing it over costs 0.07 s (bench/README, "Fourth
//! session"). Direct writes must start and end on block boundaries, so the buffer is written
//! whole and only the last partial block goes through the page cache. The file is as durable as
//! before: `finish` syncs it. Where the file system refuses direct I/O, the same buffer is
//! written the ordinary way.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use crate::writeback::Writeback;

/// Alignment of memory, file offsets and lengths for direct writes: 4 KiB, which covers the
/// logical block size of nearly every disk. A disk that wants more refuses the first write
/// (EINVAL) and the file continues without direct I/O.
const ALIGN: usize = 4096;
/// Bytes per write. Alone, the disk took a fifth longer for the same file in writes of half this
/// (though a whole run was no faster or slower for it); writes of twice this held the writer up
/// twice as long each, and a run took 0.72 s instead of 0.67 s (bench/README, "Fourth session").
const CAPACITY: usize = 512 * 1024;

#[derive(Clone, Copy)]
#[repr(C, align(4096))]
struct Block([u8; ALIGN]);

pub struct DirectFile {
    file: Writeback,
    /// The buffer, as blocks so that it is aligned.
    blocks: Vec<Block>,
    /// Bytes of the buffer in use.
    len: usize,
    direct: bool,
}

impl DirectFile {
    /// Creates (or truncates) the file at `path`, for direct writes where possible.
    pub fn create(path: &Path) -> io::Result<DirectFile> {
        DirectFile::create_with(path, cfg!(target_os = "linux"))
    }

    fn create_with(path: &Path, try_direct: bool) -> io::Result<DirectFile> {
        let (file, direct) = match try_direct {
            true => match open(path, true) {
                Ok(file) => (file, true),
                // The file system does not do direct I/O.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => (open(path, false)?, false),
                Err(e) => return Err(e),
            },
            false => (open(path, false)?, false),
        };
        Ok(DirectFile {
            file: Writeback::new(file),
            blocks: vec![Block([0; ALIGN]); CAPACITY / ALIGN],
            len: 0,
            direct,
        })
    }

    /// Appends `bytes` to the file, after everything pushed before.
    pub fn push(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = bytes.len().min(CAPACITY - self.len);
            buffer(&mut self.blocks)[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
            if self.len == CAPACITY {
                self.write_buffered_bytes(CAPACITY)?;
            }
        }
        Ok(())
    }

    /// Writes the first `n` bytes of the buffer and moves what follows them to its start. After
    /// an error the file is incomplete and the caller gives up on it (the outbox fails the run
    /// and removes it).
    fn write_buffered_bytes(&mut self, n: usize) -> io::Result<()> {
        let mut done = 0;
        while done < n {
            let bytes = &buffer(&mut self.blocks)[done..n];
            match self.file.write(bytes) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(k) => {
                    done += k;
                    // A short direct write leaves the next offset unaligned.
                    if self.direct && k % ALIGN != 0 {
                        self.stop_direct()?;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The file system refuses this direct write (the disk wants a larger alignment
                // than ALIGN, or a file size limit cut the length off a block boundary). A failed
                // write moves no offset, so the same bytes are written again the ordinary way.
                Err(e) if self.direct && e.raw_os_error() == Some(libc::EINVAL) => {
                    self.stop_direct()?
                }
                Err(e) => return Err(e),
            }
        }
        buffer(&mut self.blocks).copy_within(n..self.len, 0);
        self.len -= n;
        Ok(())
    }

    /// Writes the rest through the page cache from here on.
    fn stop_direct(&mut self) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let fd = self.file.as_raw_fd();
            // SAFETY: two fcntl calls on a descriptor this file owns; they read no memory.
            let ok = unsafe {
                let flags = libc::fcntl(fd, libc::F_GETFL);
                flags != -1 && libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT) != -1
            };
            if !ok {
                return Err(io::Error::last_os_error());
            }
        }
        self.direct = false;
        Ok(())
    }

    /// Writes what is still buffered and waits until the file is on disk.
    pub fn finish(mut self) -> io::Result<()> {
        let whole_blocks = self.len / ALIGN * ALIGN;
        if whole_blocks > 0 {
            self.write_buffered_bytes(whole_blocks)?;
        }
        if self.len > 0 {
            if self.direct {
                self.stop_direct()?;
            }
            self.write_buffered_bytes(self.len)?;
        }
        self.file.sync_all()
    }
}

fn open(path: &Path, direct: bool) -> io::Result<File> {
    let mut options = File::options();
    options.write(true).create(true).truncate(true);
    #[cfg(target_os = "linux")]
    if direct {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_DIRECT);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = direct;
    options.open(path)
}

/// The blocks as one run of bytes.
fn buffer(blocks: &mut [Block]) -> &mut [u8] {
    // SAFETY: `Block` is `repr(C)` around a byte array whose size is its alignment, so it has no
    // padding and the blocks lie back to back: `blocks.len() * ALIGN` initialised bytes from the
    // start, borrowed for as long as the blocks are.
    unsafe {
        std::slice::from_raw_parts_mut(blocks.as_mut_ptr().cast::<u8>(), blocks.len() * ALIGN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory on the disk that holds the build, where direct I/O is the real thing (the
    /// system's temporary directory may be a tmpfs).
    fn scratch() -> tempfile::TempDir {
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
        tempfile::tempdir_in(&target)
            .or_else(|_| tempfile::tempdir())
            .unwrap()
    }

    /// Bytes that show where they are: a shifted or repeated piece does not read the same.
    fn numbered(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn everything_pushed_is_in_the_file_in_order() {
        let dir = scratch();
        let data = numbered(3 * CAPACITY + 5 * ALIGN + 17);
        // Pieces smaller than a block, across block and buffer boundaries, larger than the buffer.
        for piece in [1, 777, ALIGN, ALIGN + 1, CAPACITY - 3, 2 * CAPACITY + 9] {
            for try_direct in [true, false] {
                let path = dir.path().join(format!("out-{piece}-{try_direct}"));
                let mut f = DirectFile::create_with(&path, try_direct).unwrap();
                for chunk in data.chunks(piece) {
                    f.push(chunk).unwrap();
                }
                f.finish().unwrap();
                assert!(std::fs::read(&path).unwrap() == data, "pieces of {piece}");
            }
        }
    }

    #[test]
    fn files_shorter_than_a_block_and_empty_files() {
        let dir = scratch();
        for n in [0, 1, ALIGN - 1, ALIGN, ALIGN + 1] {
            let path = dir.path().join(format!("out-{n}"));
            let mut f = DirectFile::create(&path).unwrap();
            f.push(&numbered(n)).unwrap();
            f.finish().unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), numbered(n));
        }
    }

    #[test]
    fn an_existing_file_is_replaced() {
        let dir = scratch();
        let path = dir.path().join("out");
        std::fs::write(&path, numbered(3 * ALIGN)).unwrap();
        let mut f = DirectFile::create(&path).unwrap();
        f.push(b"short").unwrap();
        f.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"short");
    }

    /// A write the disk refuses for its alignment (here one that ends off a block boundary)
    /// switches the file to ordinary writes without losing or repeating a byte.
    #[test]
    fn a_refused_direct_write_is_written_the_ordinary_way() {
        let dir = scratch();
        let path = dir.path().join("out");
        let mut f = DirectFile::create(&path).unwrap();
        let data = numbered(2 * ALIGN + 100);
        f.push(&data[..ALIGN]).unwrap();
        f.write_buffered_bytes(ALIGN).unwrap();
        f.push(&data[ALIGN..]).unwrap();
        f.write_buffered_bytes(ALIGN + 100).unwrap();
        assert_eq!(f.len, 0);
        f.finish().unwrap();
        assert!(std::fs::read(&path).unwrap() == data);
    }

    #[test]
    fn a_directory_that_is_not_there_is_an_error() {
        let dir = scratch();
        let path = dir.path().join("missing").join("out");
        let e = DirectFile::create(&path).err().expect("no such directory");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
