//! The one output file of an mbox or HTML run, written letter by letter without copying.
//!
//! Each letter arrives as a buffer of its own, already in its final form. Copied into a
//! `BufWriter` first, every byte of the file was moved once more on the thread that writes, the
//! one thread the render threads wait for; instead the letters are kept as they are and handed to
//! the kernel a few hundred kilobytes at a time in one vectored write, which copies them into the
//! page cache straight from where they were rendered.

use std::io::{self, IoSlice, Write};

/// Bytes kept before they are written: as much as the `BufWriter` this replaces held.
const FLUSH_AT: usize = 256 * 1024;
/// Buffers kept before they are written; Linux takes at most 1,024 in one call (`IOV_MAX`).
const MAX_BUFFERS: usize = 256;

pub struct Gather<W: Write> {
    inner: W,
    pending: Vec<Vec<u8>>,
    bytes: usize,
}

impl<W: Write> Gather<W> {
    pub fn new(inner: W) -> Gather<W> {
        Gather {
            inner,
            pending: Vec::with_capacity(MAX_BUFFERS),
            bytes: 0,
        }
    }

    /// Appends `bytes` to the file, after everything pushed before.
    pub fn push(&mut self, bytes: Vec<u8>) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.bytes += bytes.len();
        self.pending.push(bytes);
        if self.bytes >= FLUSH_AT || self.pending.len() >= MAX_BUFFERS {
            self.write_pending()?;
        }
        Ok(())
    }

    /// After an error, part of what was kept may be in the file: the buffers are dropped, so
    /// that nothing is written twice, and the caller gives up on the file (the outbox fails the
    /// run and removes it).
    fn write_pending(&mut self) -> io::Result<()> {
        let result = self.write_all_pending();
        self.pending.clear();
        self.bytes = 0;
        result
    }

    fn write_all_pending(&mut self) -> io::Result<()> {
        let mut slices: Vec<IoSlice> = self.pending.iter().map(|b| IoSlice::new(b)).collect();
        let mut rest = &mut slices[..];
        // `Write::write_all_vectored` is not stable yet: the same loop.
        while !rest.is_empty() {
            match self.inner.write_vectored(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes what is still kept and gives the file back.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.write_pending()?;
        Ok(self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes at most `max` bytes per call, like a file that writes part of what it is given.
    struct Short {
        out: Vec<u8>,
        max: usize,
        calls: usize,
    }

    impl Write for Short {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[IoSlice]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(self.max - n);
                self.out.extend_from_slice(&b[..take]);
                n += take;
                if n == self.max {
                    break;
                }
            }
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn everything_pushed_is_written_in_order() {
        for max in [1, 7, 4096, usize::MAX / 2] {
            let mut g = Gather::new(Short {
                out: Vec::new(),
                max,
                calls: 0,
            });
            let mut want = Vec::new();
            // Small and large buffers, empty ones, and enough of them to be written in batches.
            for i in 0..2000usize {
                let len = [0, 1, 300, 5000, 70_000][i % 5] / if max < 10 { 100 } else { 1 };
                let b: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
                want.extend_from_slice(&b);
                g.push(b).unwrap();
            }
            let inner = g.into_inner().unwrap();
            assert!(inner.out == want, "max {max}");
            if max > FLUSH_AT {
                // Letters go to the file many at a time, not one call each.
                assert!(inner.calls < 2000 / 4, "{} calls", inner.calls);
            }
        }
    }

    #[test]
    fn a_write_error_is_returned() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut g = Gather::new(Full);
        g.push(vec![1; 10]).unwrap();
        assert_eq!(g.into_inner().err().unwrap().to_string(), "disk full");
        let mut g = Gather::new(Full);
        assert!((0..1000).any(|_| g.push(vec![1; 1000]).is_err()));
    }

    /// A file that takes nothing more is an error, not a loop.
    #[test]
    fn a_file_that_takes_nothing_is_an_error() {
        struct Stuck;
        impl Write for Stuck {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut g = Gather::new(Stuck);
        g.push(vec![1; 10]).unwrap();
        let e = g.into_inner().err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::WriteZero);
    }
}
