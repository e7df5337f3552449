//! `sse`: watch any Server-Sent Events stream from a terminal. `sse --help` says how.
#![forbid(unsafe_code)]

mod args;
mod error;
mod output;
mod session;

use std::process::ExitCode;

use crate::{args::Cli, error::Failure, output::Printer, session::Session};

fn main() -> ExitCode {
    let cli = Cli::from_env();
    let mut out = Printer::new(&cli);
    let result = run(&cli, &mut out);
    out.finish();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `sse URL | head`: the reader has what it wanted.
        Err(Failure::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(failure) => {
            out.error(&failure.to_string(), failure.body().as_deref());
            ExitCode::from(failure.exit_code())
        }
    }
}

fn run(cli: &Cli, out: &mut Printer) -> Result<(), Failure> {
    let target = cli.target().map_err(Failure::Usage)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Failure::Output)?;
    let mut session = Session::new(cli, target)?;
    runtime.block_on(session.run(out))
}
