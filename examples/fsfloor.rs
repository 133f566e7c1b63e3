//! The file-system floor the output benchmarks are judged against: the plainest loop that writes
//! the same number of bytes, either as N files or as one file. Used by bench/run.sh.
//!
//! fsfloor files DIR N SIZE    create DIR and N files of SIZE bytes in it (open, write, close)
//! fsfloor one FILE N SIZE     write N chunks of SIZE bytes to FILE through a 256 KiB buffer
//! fsfloor direct FILE N SIZE  the same past the page cache (Linux O_DIRECT, as letterdrive
//!                             writes an mbox): through a 512 KiB aligned buffer, the last
//!                             partial block the ordinary way

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: fsfloor files|one|direct PATH N SIZE");
        std::process::exit(2);
    }
    let path = std::path::Path::new(&args[2]);
    let n: usize = args[3].parse().expect("N");
    let size: usize = args[4].parse().expect("SIZE");
    let chunk = vec![b'x'; size];
    match args[1].as_str() {
        "files" => {
            std::fs::create_dir_all(path).expect("create dir");
            for i in 0..n {
                std::fs::write(path.join(format!("letter-{i:07}.eml")), &chunk).expect("write");
            }
        }
        "one" => {
            let f = std::fs::File::create(path).expect("create file");
            let mut w = std::io::BufWriter::with_capacity(256 * 1024, f);
            for _ in 0..n {
                w.write_all(&chunk).expect("write");
            }
            w.into_inner().expect("flush").sync_all().expect("sync");
        }
        #[cfg(target_os = "linux")]
        "direct" => direct(path, n, &chunk),
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}

#[cfg(target_os = "linux")]
fn direct(path: &std::path::Path, n: usize, chunk: &[u8]) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    const CAP: usize = 512 * 1024;
    #[repr(C, align(4096))]
    #[derive(Clone, Copy)]
    struct Block([u8; 4096]);
    let mut f = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .expect("create file with O_DIRECT");
    let mut blocks = vec![Block([0; 4096]); CAP / 4096];
    // SAFETY: the blocks are plain bytes without padding, back to back.
    let buf = unsafe { std::slice::from_raw_parts_mut(blocks.as_mut_ptr().cast::<u8>(), CAP) };
    let mut len = 0;
    for _ in 0..n {
        let mut rest = chunk;
        while !rest.is_empty() {
            let k = rest.len().min(CAP - len);
            buf[len..len + k].copy_from_slice(&rest[..k]);
            len += k;
            rest = &rest[k..];
            if len == CAP {
                f.write_all(buf).expect("write");
                len = 0;
            }
        }
    }
    let whole = len / 4096 * 4096;
    f.write_all(&buf[..whole]).expect("write");
    // SAFETY: two fcntl calls on a descriptor this function owns.
    unsafe {
        let fd = f.as_raw_fd();
        let flags = libc::fcntl(fd, libc::F_GETFL);
        assert!(libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT) != -1);
    }
    f.write_all(&buf[whole..len]).expect("write");
    f.sync_all().expect("sync");
}
