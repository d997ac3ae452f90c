pub async fn run(
    _rt: &crate::runtime::Runtime,
    _config: Option<&std::path::Path>,
) -> anyhow::Result<std::process::ExitCode> {
    todo!()
}
