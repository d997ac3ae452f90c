fn main() -> std::process::ExitCode {
    cto_host::cli::main()
}
