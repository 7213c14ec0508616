fn main() {
    println!("emrguard {}", env!("CARGO_PKG_VERSION"));
}
