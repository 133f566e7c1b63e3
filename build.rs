//! The bundled campaign and the `init --blank` skeleton are compiled into the binary; make cargo rebuild when their files change.

fn main() {
    for path in [
        "campaign.toml",
        "templates",
        "recipients",
        "src/campaign/blank",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
}
