fn main() {
    println!("kubectl cicd");
}
