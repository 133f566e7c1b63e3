//! The file-system floor the output benchmarks are judged against: the plainest loop that writes
//! the same number of bytes, either as N files or as one file. Used by bench/run.sh and bench/ab.sh.
//!
//! fsfloor files DIR N SIZE    create DIR and N files of SIZE bytes in it (open, write, close)
//! fsfloor one FILE N SIZE     write N chunks of SIZE bytes to FILE through a 256 KiB buffer,
//!                             then sync it (letterdrive syncs an mbox before moving it into place)

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: fsfloor files|one PATH N SIZE");
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
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}
