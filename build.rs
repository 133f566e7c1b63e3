//! The bundled campaign is compiled into the binary; make cargo rebuild when its files change.

fn main() {
    for path in ["campaign.toml", "templates", "recipients"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
